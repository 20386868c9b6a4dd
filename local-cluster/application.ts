import { z } from 'zod';
import type { StoredObject } from './kube';
import { LabelKey } from '../src/spark/kubernetes/labels';

/**
 * A stored SparkApplication as the simulator reads it: the spec fields spark-submit and the
 * operator's webhook turn into pods, with Spark's defaults filled in. Anything it does not model
 * is ignored; a field of the wrong type reads as absent, as a lenient controller would.
 */
export interface SimulatedApplication {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The `nightjar.io/attempt` label as a number; 1 when it is absent or not a number. */
  readonly attempt: number;
  /** The `nightjar.io/attempt` label as written, for the timeline. */
  readonly attemptLabel?: string;
  readonly type: string;
  readonly image: string;
  readonly imagePullPolicy?: string;
  readonly mainApplicationFile: string;
  readonly arguments: readonly string[];
  readonly sparkVersion: string;
  readonly memoryOverheadFactor?: number;
  /** `spec.volumes`, passed to the pods as the operator's webhook would. */
  readonly volumes: readonly unknown[];
  readonly driver: SimulatedPodSpec;
  readonly executor: SimulatedPodSpec & { readonly instances: number };
  /** The object as stored when the simulator first saw it. */
  readonly object: StoredObject;
}

export interface SimulatedPodSpec {
  /** `memory` in MiB (Spark's default 1g when absent or unreadable). */
  readonly memoryMb: number;
  /** `memoryOverhead` in MiB, when given. */
  readonly memoryOverheadMb?: number;
  readonly cores: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  readonly configMaps: readonly { readonly name: string; readonly path: string }[];
  readonly env: readonly unknown[];
  readonly volumeMounts: readonly unknown[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly unknown[];
  readonly affinity?: unknown;
  readonly priorityClassName?: string;
}

/** Spark's `spark.driver.memory` / `spark.executor.memory` default. */
const DEFAULT_MEMORY_MB = 1024;
/** Spark's `spark.executor.instances` default. */
const DEFAULT_EXECUTOR_INSTANCES = 2;

const UNITS_MB: Readonly<Record<string, number>> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };

/**
 * A Spark memory string (`2048m`, `4g`, `512`: MiB when there is no unit) in MiB, or undefined
 * when it is not one. Kubernetes-style `Mi`/`Gi` are read too.
 */
export function parseSparkMemoryMb(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt])?(?:i?b?)\s*$/i.exec(value);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = UNITS_MB[(match[2] ?? 'm').toLowerCase()] ?? 1;
  return amount * unit;
}

const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const stringMap = lenient(z.record(z.string(), z.string()));

const PodSpecSchema = z.object({
  memory: z.unknown(),
  memoryOverhead: z.unknown(),
  cores: lenient(z.number().positive()),
  instances: lenient(z.number().int().nonnegative()),
  labels: stringMap,
  annotations: stringMap,
  serviceAccount: lenient(z.string()),
  configMaps: lenient(z.array(z.object({ name: z.string().min(1), path: z.string() }))),
  env: lenient(z.array(z.unknown())),
  volumeMounts: lenient(z.array(z.unknown())),
  nodeSelector: stringMap,
  tolerations: lenient(z.array(z.unknown())),
  affinity: z.unknown(),
  priorityClassName: lenient(z.string()),
});

const SpecSchema = z.object({
  type: lenient(z.string()),
  image: lenient(z.string()),
  imagePullPolicy: lenient(z.string()),
  mainApplicationFile: lenient(z.string()),
  arguments: lenient(z.array(z.string())),
  sparkVersion: lenient(z.string()),
  memoryOverheadFactor: z.unknown(),
  volumes: lenient(z.array(z.unknown())),
  driver: PodSpecSchema.optional().catch(undefined),
  executor: PodSpecSchema.optional().catch(undefined),
});

type ParsedPodSpec = z.infer<typeof PodSpecSchema>;

function podSpec(parsed: ParsedPodSpec | undefined): SimulatedPodSpec {
  const overhead = parseSparkMemoryMb(parsed?.memoryOverhead);
  return {
    memoryMb: parseSparkMemoryMb(parsed?.memory) ?? DEFAULT_MEMORY_MB,
    ...(overhead === undefined ? {} : { memoryOverheadMb: overhead }),
    cores: parsed?.cores ?? 1,
    labels: parsed?.labels ?? {},
    annotations: parsed?.annotations ?? {},
    ...(parsed?.serviceAccount === undefined ? {} : { serviceAccount: parsed.serviceAccount }),
    configMaps: parsed?.configMaps ?? [],
    env: parsed?.env ?? [],
    volumeMounts: parsed?.volumeMounts ?? [],
    ...(parsed?.nodeSelector === undefined ? {} : { nodeSelector: parsed.nodeSelector }),
    ...(parsed?.tolerations === undefined ? {} : { tolerations: parsed.tolerations }),
    ...(parsed?.affinity === undefined ? {} : { affinity: parsed.affinity }),
    ...(parsed?.priorityClassName === undefined ? {} : { priorityClassName: parsed.priorityClassName }),
  };
}

export function readApplication(object: StoredObject): SimulatedApplication {
  const parsed = SpecSchema.safeParse(object.spec ?? {});
  const spec = parsed.success ? parsed.data : SpecSchema.parse({});
  const labels = object.metadata.labels ?? {};
  const attemptLabel = labels[LabelKey.attempt];
  const attempt = attemptLabel !== undefined && /^\d+$/.test(attemptLabel) ? Number(attemptLabel) : 1;
  const factor = typeof spec.memoryOverheadFactor === 'number' ? spec.memoryOverheadFactor : Number(spec.memoryOverheadFactor);
  return {
    name: object.metadata.name,
    namespace: object.metadata.namespace,
    uid: object.metadata.uid,
    labels,
    attempt,
    ...(attemptLabel === undefined ? {} : { attemptLabel }),
    type: spec.type ?? 'Python',
    image: spec.image ?? 'apache/spark:latest',
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    mainApplicationFile: spec.mainApplicationFile ?? 'local:///opt/spark/app.py',
    arguments: spec.arguments ?? [],
    sparkVersion: spec.sparkVersion ?? '4.0.1',
    ...(Number.isFinite(factor) && factor > 0 ? { memoryOverheadFactor: factor } : {}),
    volumes: spec.volumes ?? [],
    driver: podSpec(spec.driver),
    executor: { ...podSpec(spec.executor), instances: spec.executor?.instances ?? DEFAULT_EXECUTOR_INSTANCES },
    object,
  };
}
