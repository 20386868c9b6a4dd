/**
 * Turns one Spark attempt into the spark-operator `SparkApplication` (sparkoperator.k8s.io/v1beta2)
 * that runs it. Pure: the platform only sends what this returns, so everything about the body
 * is decided and tested here.
 *
 * Spark-operator quirks worth knowing when reading the result:
 * - `driver`/`executor` `env`, `affinity`, `tolerations`, `nodeSelector`, `configMaps`,
 *   `priorityClassName` and `spec.sparkConfigMap` reach the pods through the operator's mutating
 *   webhook; without the webhook they are silently dropped. Labels (the SparkApplication's and the
 *   pods'), cores, memory, instances and the service account travel as Spark configuration and
 *   need no webhook.
 * - `restartPolicy: Never`: Nightjar owns retries (and grows memory between them); the operator's
 *   own retries would resubmit the same spec.
 */
import { z } from 'zod';
import { SparkResourcesSchema, type SparkResources } from '../../domain/spark/resources';
import type { SparkAttemptRequest } from '../platform';
import { attemptLabels } from './labels';

export const SPARK_OPERATOR_API_VERSION = 'sparkoperator.k8s.io/v1beta2';
export const SPARK_APPLICATION_KIND = 'SparkApplication';

/** Where the driver finds the attempt's job spec when it comes from a ConfigMap (key `spec.json`). */
export const SPEC_MOUNT_DIR = '/etc/nightjar/spec';
export const SPEC_FILE_KEY = 'spec.json';
export const SPEC_MOUNT_FILE = `${SPEC_MOUNT_DIR}/${SPEC_FILE_KEY}`;

/** Name of the data volume in the pod specs. */
export const DATA_VOLUME = 'nightjar-data';

/** Weight of the preferred (soft) locality term; the maximum Kubernetes accepts. */
export const PREFERRED_LOCALITY_WEIGHT = 100;

// ---- the subset of v1beta2 (and core/v1) that Nightjar emits ----------------------------

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: 'In';
  readonly values: readonly string[];
}

export interface NodeAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: {
    readonly nodeSelectorTerms: readonly { readonly matchExpressions: readonly NodeSelectorRequirement[] }[];
  };
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly {
    readonly weight: number;
    readonly preference: { readonly matchExpressions: readonly NodeSelectorRequirement[] };
  }[];
}

export interface Affinity {
  readonly nodeAffinity: NodeAffinity;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/** An environment variable taken from a Secret: only the reference travels, never the value. */
export interface SecretEnvVar {
  readonly name: string;
  readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

export interface NamePath {
  readonly name: string;
  readonly path: string;
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
}

export interface Volume {
  readonly name: string;
  readonly persistentVolumeClaim: { readonly claimName: string };
}

export interface SparkPodSpec {
  readonly cores: number;
  /** Spark memory string in MiB, e.g. `2048m`. */
  readonly memory: string;
  readonly memoryOverhead?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly env?: readonly SecretEnvVar[];
  readonly volumeMounts?: readonly VolumeMount[];
  readonly configMaps?: readonly NamePath[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly affinity?: Affinity;
  readonly priorityClassName?: string;
}

export type DriverSpec = SparkPodSpec;

export interface ExecutorSpec extends SparkPodSpec {
  readonly instances: number;
}

export type BatchSchedulerName = 'volcano' | 'yunikorn';

export interface SparkApplicationSpec {
  readonly type: 'Python';
  readonly mode: 'cluster';
  readonly sparkVersion: string;
  readonly pythonVersion?: '2' | '3';
  readonly image: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly mainApplicationFile: string;
  readonly arguments: readonly string[];
  readonly sparkConf: Readonly<Record<string, string>>;
  readonly sparkConfigMap?: string;
  readonly restartPolicy: { readonly type: 'Never' };
  readonly timeToLiveSeconds: number;
  readonly batchScheduler?: BatchSchedulerName;
  readonly batchSchedulerOptions?: { readonly queue: string };
  readonly volumes?: readonly Volume[];
  readonly driver: DriverSpec;
  readonly executor: ExecutorSpec;
}

export interface SparkApplication {
  readonly apiVersion: typeof SPARK_OPERATOR_API_VERSION;
  readonly kind: typeof SPARK_APPLICATION_KIND;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: SparkApplicationSpec;
}

// ---- input -------------------------------------------------------------------------------

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface SecretEnvRef {
  /** Environment variable name inside the driver and executor containers. */
  readonly name: string;
  readonly secretName: string;
  readonly key: string;
}

export interface LocalityInput {
  /** A node label naming where a node sits, e.g. `topology.kubernetes.io/zone` or a rack label. */
  readonly topologyKey: string;
  readonly values: readonly string[];
  /** Hard requirement (pods stay Pending without a matching node) or a preference. */
  readonly required: boolean;
}

export interface PlacementInput {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly priorityClassName?: string;
  readonly locality?: LocalityInput;
}

/**
 * A PersistentVolumeClaim mounted into driver and executors, e.g. the shared data volume that
 * holds the job spec's input and output paths (mounted at the same path as on the worker).
 */
export interface VolumeInput {
  readonly claimName: string;
  readonly mountPath: string;
}

export interface BatchSchedulerInput {
  readonly name: BatchSchedulerName;
  readonly queue?: string;
}

export interface SparkApplicationInput {
  readonly request: SparkAttemptRequest;
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly serviceAccount: string;
  /** `local://` path of the PySpark entry point inside the image. */
  readonly mainApplicationFile: string;
  /** ConfigMap holding the attempt's `spec.json`, mounted into the driver at {@link SPEC_MOUNT_DIR}. */
  readonly specConfigMap?: string;
  /** ConfigMap of Spark configuration files (spark-operator `sparkConfigMap`). */
  readonly sparkConfConfigMap?: string;
  readonly secretEnv?: readonly SecretEnvRef[];
  readonly placement?: PlacementInput;
  readonly batchScheduler?: BatchSchedulerInput;
  readonly dataVolume?: VolumeInput;
  /** On the SparkApplication and its pods; values of any length (unlike labels). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** How long the operator keeps the SparkApplication after it terminated. */
  readonly ttlSeconds: number;
  readonly sparkVersion: string;
  readonly pythonVersion?: '2' | '3';
  /**
   * JVM options of the driver and of the executors, as `spark.driver.extraJavaOptions` and
   * `spark.executor.extraJavaOptions` (the request's own sparkConf, when it sets them, wins).
   */
  readonly javaOptions?: { readonly driver: readonly string[]; readonly executor: readonly string[] };
}

/** An input that cannot make a valid SparkApplication; `field` is its path in the input. */
export class SparkApplicationSpecError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`invalid SparkApplication input ${field}: ${problem}`);
    this.name = 'SparkApplicationSpecError';
    this.field = field;
  }
}

// ---- resources: every SparkResources field lands somewhere -----------------------------

interface ResourcePatch {
  readonly driver?: Partial<Pick<SparkPodSpec, 'cores' | 'memory' | 'memoryOverhead'>>;
  readonly executor?: Partial<Pick<ExecutorSpec, 'cores' | 'memory' | 'memoryOverhead' | 'instances'>>;
  readonly sparkConf?: Readonly<Record<string, string>>;
}

type ResourceMapping = { readonly [K in keyof SparkResources]-?: (value: SparkResources[K]) => ResourcePatch };

const mib = (mb: number) => `${mb}m`;

/**
 * Where each resource goes. Typed over `keyof SparkResources`: a new resource field does not
 * compile until it is mapped here, so escalation can never grow a number nobody sends.
 */
export const RESOURCE_MAPPING: ResourceMapping = {
  driverMemoryMb: (v) => ({ driver: { memory: mib(v) } }),
  driverCores: (v) => ({ driver: { cores: v } }),
  executorMemoryMb: (v) => ({ executor: { memory: mib(v) } }),
  executorCores: (v) => ({ executor: { cores: v } }),
  executorInstances: (v) => ({ executor: { instances: v } }),
  // null: no field, so Spark applies its default overhead factor (minimum 384 MiB).
  memoryOverheadMb: (v) => (v === null ? {} : { driver: { memoryOverhead: mib(v) }, executor: { memoryOverhead: mib(v) } }),
  shufflePartitions: (v) => ({ sparkConf: { 'spark.sql.shuffle.partitions': String(v) } }),
};

interface MappedResources {
  readonly driver: Pick<SparkPodSpec, 'cores' | 'memory'> & Partial<Pick<SparkPodSpec, 'memoryOverhead'>>;
  readonly executor: Pick<ExecutorSpec, 'cores' | 'memory' | 'instances'> & Partial<Pick<ExecutorSpec, 'memoryOverhead'>>;
  readonly sparkConf: Readonly<Record<string, string>>;
}

function mapResources(resources: SparkResources): MappedResources {
  const keys = Object.keys(RESOURCE_MAPPING) as (keyof SparkResources)[];
  const patches = keys.map(<K extends keyof SparkResources>(key: K) =>
    (RESOURCE_MAPPING[key] as (value: SparkResources[K]) => ResourcePatch)(resources[key]),
  );
  const merged = patches.reduce<{ driver: object; executor: object; sparkConf: Record<string, string> }>(
    (acc, p) => ({
      driver: { ...acc.driver, ...p.driver },
      executor: { ...acc.executor, ...p.executor },
      sparkConf: { ...acc.sparkConf, ...p.sparkConf },
    }),
    { driver: {}, executor: {}, sparkConf: {} },
  );
  // Complete by construction: the mapping covers every (validated) resource field.
  return merged as MappedResources;
}

/**
 * Spark properties the request may not set: they would contradict a typed field of the
 * SparkApplication (the operator turns those fields into the same properties), or they carry a
 * credential's value, which must come from a Secret by reference instead.
 */
const FIELD_OWNED_CONF = new Set([
  'spark.app.name',
  'spark.kubernetes.namespace',
  'spark.kubernetes.container.image',
  'spark.driver.cores',
  'spark.driver.memory',
  'spark.driver.memoryOverhead',
  'spark.executor.cores',
  'spark.executor.memory',
  'spark.executor.memoryOverhead',
  'spark.executor.instances',
]);
const CREDENTIAL_CONF = [
  /(?:^|[._])(?:password|passwd)$/i,
  /secret\.key$/i,
  /(?:^|\.)session\.token$/i,
  /\.oauthToken$/i,
  /\.account\.key\./i,
  /(?:^|\.)sasl\.jaas\.config$/i,
];

// ---- validation --------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_KEY = /^[-._A-Za-z0-9]+$/;

const dnsLabel = z.string().max(63, 'at most 63 characters').regex(DNS_LABEL, 'must be a DNS-1123 label (lower-case letters, digits, -)');
const dnsSubdomain = z
  .string()
  .max(253, 'at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain (lower-case letters, digits, -, .)');
const labelKey = z.string().refine(isQualifiedName, 'must be a Kubernetes label key ([prefix/]name)');
const labelValue = z.string().max(63, 'at most 63 characters').regex(LABEL_VALUE, 'must be a Kubernetes label value');
const positiveInt = z.number().int('must be an integer').positive('must be positive');
/** One JVM option: the options are joined with spaces into one property. */
const javaOption = z.string().regex(/^-\S+$/, 'must be one JVM option, starting with "-" and without spaces');

function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

const RequestSchema = z.object({
  attemptId: dnsLabel,
  workflowId: z.string().min(1, 'must not be empty'),
  businessDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  job: z.string().min(1, 'must not be empty'),
  attempt: positiveInt,
  resources: SparkResourcesSchema,
  args: z.array(z.string()),
  sparkConf: z.record(z.string().min(1, 'keys must not be empty'), z.string()).superRefine((conf, ctx) => {
    for (const key of Object.keys(conf)) {
      if (FIELD_OWNED_CONF.has(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is set from the resources and image; not allowed in sparkConf' });
      } else if (CREDENTIAL_CONF.some((re) => re.test(key))) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'carries a credential; pass it by Secret reference (secretEnv)' });
      }
    }
  }),
});

const TolerationSchema = z
  .strictObject({
    key: labelKey.optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: labelValue.optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int('must be an integer').optional(),
  })
  .superRefine((t, ctx) => {
    if (t.operator === 'Exists' && t.value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: "must be empty when operator is 'Exists'" });
    }
    if (t.key === undefined && t.operator !== 'Exists') {
      ctx.addIssue({ code: 'custom', path: ['operator'], message: "must be 'Exists' when key is empty" });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], message: "only applies to effect 'NoExecute'" });
    }
  });

const InputSchema = z.object({
  request: RequestSchema,
  namespace: dnsLabel,
  image: z.string().min(1, 'must not be empty').regex(/^\S+$/, 'must not contain whitespace'),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  serviceAccount: dnsSubdomain,
  mainApplicationFile: z.string().regex(/^local:\/\/\/\S+$/, 'must be a local:// path inside the image'),
  specConfigMap: dnsSubdomain.optional(),
  sparkConfConfigMap: dnsSubdomain.optional(),
  secretEnv: z
    .array(
      // strict: an entry carrying anything but a reference (a `value`, say) is refused.
      z.strictObject({
        name: z.string().regex(ENV_NAME, 'must be an environment variable name'),
        secretName: dnsSubdomain,
        key: z.string().max(253, 'at most 253 characters').regex(SECRET_KEY, 'must be a Secret key'),
      }),
    )
    .superRefine((refs, ctx) => {
      const seen = new Set<string>();
      refs.forEach((ref, i) => {
        if (seen.has(ref.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'duplicate environment variable' });
        seen.add(ref.name);
      });
    })
    .optional(),
  placement: z
    .strictObject({
      nodeSelector: z.record(labelKey, labelValue).optional(),
      tolerations: z.array(TolerationSchema).optional(),
      priorityClassName: dnsSubdomain.optional(),
      locality: z
        .strictObject({
          topologyKey: labelKey,
          values: z.array(labelValue.min(1, 'must not be empty')).min(1, 'needs at least one value'),
          required: z.boolean(),
        })
        .optional(),
    })
    .optional(),
  batchScheduler: z
    .strictObject({
      name: z.enum(['volcano', 'yunikorn']),
      queue: z.string().min(1, 'must not be empty').regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ., _ and - only').optional(),
    })
    .optional(),
  dataVolume: z
    .strictObject({
      claimName: dnsSubdomain,
      mountPath: z.string().regex(/^\/\S*$/, 'must be an absolute path'),
    })
    .optional(),
  annotations: z.record(labelKey, z.string()).optional(),
  ttlSeconds: positiveInt,
  sparkVersion: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/, 'must be a Spark version such as 4.0.1'),
  pythonVersion: z.enum(['2', '3']).optional(),
  javaOptions: z.strictObject({ driver: z.array(javaOption), executor: z.array(javaOption) }).optional(),
});

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    const key = String(part);
    if (/^[A-Za-z_$][\w$]*$/.test(key)) return acc ? `${acc}.${key}` : key;
    return `${acc}[${JSON.stringify(key)}]`;
  }, '');
}

/** Validates the input; throws {@link SparkApplicationSpecError} naming the first bad field. */
export function validateSparkApplicationInput(input: SparkApplicationInput): void {
  const result = InputSchema.safeParse(input);
  if (result.success) return;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new SparkApplicationSpecError('(input)', 'invalid');
  // Messages name the field and the rule, never the value: a value may be a credential.
  const problem = issue.code === 'unrecognized_keys' ? `unexpected field(s) ${issue.keys.join(', ')}` : issue.message;
  throw new SparkApplicationSpecError(fieldPath(issue.path) || '(input)', problem);
}

// ---- the builder -------------------------------------------------------------------------

/** The SparkApplication for one attempt. Deterministic: the same input gives the same object. */
export function buildSparkApplication(input: SparkApplicationInput): SparkApplication {
  validateSparkApplicationInput(input);
  const { request } = input;
  const labels = attemptLabels(request);

  const resources = mapResources(request.resources);

  const driver: DriverSpec = {
    ...resources.driver,
    ...podPlacement(input),
    labels: { ...labels },
    ...podExtras(input),
    ...(input.specConfigMap !== undefined ? { configMaps: [{ name: input.specConfigMap, path: SPEC_MOUNT_DIR }] } : {}),
  };
  const executor: ExecutorSpec = { ...resources.executor, ...podPlacement(input), labels: { ...labels }, ...podExtras(input) };

  const spec: SparkApplicationSpec = {
    type: 'Python',
    mode: 'cluster',
    sparkVersion: input.sparkVersion,
    ...(input.pythonVersion !== undefined ? { pythonVersion: input.pythonVersion } : {}),
    image: input.image,
    ...(input.imagePullPolicy !== undefined ? { imagePullPolicy: input.imagePullPolicy } : {}),
    mainApplicationFile: input.mainApplicationFile,
    arguments: input.specConfigMap !== undefined ? withMountedSpec(request.args) : [...request.args],
    sparkConf: { ...resources.sparkConf, ...javaOptionsConf(input.javaOptions), ...request.sparkConf },
    ...(input.sparkConfConfigMap !== undefined ? { sparkConfigMap: input.sparkConfConfigMap } : {}),
    restartPolicy: { type: 'Never' },
    timeToLiveSeconds: input.ttlSeconds,
    ...(input.batchScheduler !== undefined ? { batchScheduler: input.batchScheduler.name } : {}),
    ...(input.batchScheduler?.queue !== undefined ? { batchSchedulerOptions: { queue: input.batchScheduler.queue } } : {}),
    ...(input.dataVolume !== undefined ? { volumes: [{ name: DATA_VOLUME, persistentVolumeClaim: { claimName: input.dataVolume.claimName } }] } : {}),
    driver,
    executor,
  };

  return {
    apiVersion: SPARK_OPERATOR_API_VERSION,
    kind: SPARK_APPLICATION_KIND,
    metadata: {
      name: request.attemptId,
      namespace: input.namespace,
      labels: { ...labels },
      ...(input.annotations !== undefined ? { annotations: { ...input.annotations } } : {}),
    },
    spec,
  };
}

/** The JVM options as Spark properties; none for an empty list. */
function javaOptionsConf(options: SparkApplicationInput['javaOptions']): Record<string, string> {
  const conf: Record<string, string> = {};
  if (options !== undefined && options.driver.length > 0) conf['spark.driver.extraJavaOptions'] = options.driver.join(' ');
  if (options !== undefined && options.executor.length > 0) conf['spark.executor.extraJavaOptions'] = options.executor.join(' ');
  return conf;
}

/** Annotations and the data volume mount, shared by driver and executors. Fresh objects per call. */
function podExtras(input: SparkApplicationInput): Pick<SparkPodSpec, 'annotations' | 'volumeMounts'> {
  return {
    ...(input.annotations !== undefined ? { annotations: { ...input.annotations } } : {}),
    ...(input.dataVolume !== undefined ? { volumeMounts: [{ name: DATA_VOLUME, mountPath: input.dataVolume.mountPath }] } : {}),
  };
}

/** What driver and executor pods share besides labels: identity, credentials, placement. Fresh objects per call. */
function podPlacement(input: SparkApplicationInput): Omit<SparkPodSpec, 'cores' | 'memory' | 'memoryOverhead' | 'labels' | 'configMaps'> {
  const { placement } = input;
  const env = (input.secretEnv ?? []).map(
    (ref): SecretEnvVar => ({ name: ref.name, valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } } }),
  );
  return {
    serviceAccount: input.serviceAccount,
    ...(env.length > 0 ? { env } : {}),
    ...(placement?.nodeSelector !== undefined ? { nodeSelector: { ...placement.nodeSelector } } : {}),
    ...(placement?.tolerations !== undefined ? { tolerations: placement.tolerations.map((t) => ({ ...t })) } : {}),
    ...(placement?.locality !== undefined ? { affinity: localityAffinity(placement.locality) } : {}),
    ...(placement?.priorityClassName !== undefined ? { priorityClassName: placement.priorityClassName } : {}),
  };
}

/**
 * The arguments with `--spec` pointing at the mounted ConfigMap: the path the submit activity
 * wrote is on the worker's disk, which the driver pod cannot see.
 */
function withMountedSpec(args: readonly string[]): string[] {
  const at = args.indexOf('--spec');
  if (at < 0) return [...args, '--spec', SPEC_MOUNT_FILE];
  const out = [...args];
  if (at + 1 < out.length) out[at + 1] = SPEC_MOUNT_FILE;
  else out.push(SPEC_MOUNT_FILE);
  return out;
}

/** Node affinity keeping driver and executors on the given zones or racks, hard or soft. */
function localityAffinity(locality: LocalityInput): Affinity {
  const matchExpressions: NodeSelectorRequirement[] = [{ key: locality.topologyKey, operator: 'In', values: [...locality.values] }];
  return locality.required
    ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } }
    : { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: PREFERRED_LOCALITY_WEIGHT, preference: { matchExpressions } }] } };
}
