/**
 * Narrowing of what the Kubernetes API returns for a Spark attempt: the SparkApplication's
 * `status` (the custom-objects API types it `any`), and the few Pod and Event fields the
 * classifier reads. Only those fields are kept; anything else is dropped. Absent optional
 * fields parse as absent, so a just-created object (no status yet) is fine; a field of the
 * wrong type is an error, never a guess.
 */
import { z } from 'zod';
import type { AttemptPod } from '../../domain/spark/resources';

/** spark-operator v1beta2 `ApplicationStateType` ("" is a new, not yet submitted application). */
export const APPLICATION_STATES = [
  '',
  'SUBMITTED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'SUBMISSION_FAILED',
  'PENDING_RERUN',
  'INVALIDATING',
  'SUCCEEDING',
  'FAILING',
  'SUSPENDING',
  'SUSPENDED',
  'RESUMING',
  'UNKNOWN',
] as const;
export type ApplicationStateName = (typeof APPLICATION_STATES)[number];

/** spark-operator v1beta2 `ExecutorState` (also the values of `DriverState`). */
export const EXECUTOR_STATES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'UNKNOWN'] as const;
export type ExecutorStateName = (typeof EXECUTOR_STATES)[number];

/**
 * A state string from a newer operator than this code knows reads as UNKNOWN (waited on, never
 * mistaken for success or failure) instead of failing every poll of a healthy application.
 */
function stateOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().transform((s): T[number] | 'UNKNOWN' => ((values as readonly string[]).includes(s) ? (s as T[number]) : 'UNKNOWN'));
}

/** metav1.Time: RFC 3339, or null for the zero time (the operator writes `terminationTime: null`). */
const time = z.union([z.string(), z.date().transform((d) => d.toISOString())]).nullish();
const count = z.number().int().nonnegative();

export const SparkApplicationStatusSchema = z.object({
  applicationState: z
    .object({
      state: stateOf(APPLICATION_STATES).default(''),
      errorMessage: z.string().optional(),
    })
    .default({ state: '' }),
  driverInfo: z.object({ podName: z.string().optional() }).optional(),
  executorState: z.record(z.string(), stateOf(EXECUTOR_STATES)).optional(),
  sparkApplicationId: z.string().optional(),
  submissionID: z.string().optional(),
  submissionAttempts: count.optional(),
  executionAttempts: count.optional(),
  lastSubmissionAttemptTime: time,
  terminationTime: time,
});
export type SparkApplicationStatus = z.infer<typeof SparkApplicationStatusSchema>;

/** The parts of a SparkApplication object (as read back from the API) that Nightjar looks at. */
export const SparkApplicationObjectSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    creationTimestamp: time,
    deletionTimestamp: time,
  }),
  status: SparkApplicationStatusSchema.default({ applicationState: { state: '' } }),
});
export type SparkApplicationObject = z.infer<typeof SparkApplicationObjectSchema>;

// ---- pods ---------------------------------------------------------------------------------

const TerminatedSchema = z.object({
  exitCode: z.number().int(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
const ContainerStateSchema = z.object({
  terminated: TerminatedSchema.nullish(),
  waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).nullish(),
  running: z.object({}).nullish(),
});
const ContainerStatusSchema = z.object({
  name: z.string(),
  state: ContainerStateSchema.nullish(),
  lastState: ContainerStateSchema.nullish(),
  restartCount: count.optional(),
});
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

export const PodSchema = z.object({
  metadata: z.object({
    name: z.string().min(1),
    labels: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: time,
  }),
  status: z
    .object({
      phase: stateOf(POD_PHASES).optional(),
      /** e.g. `Evicted` (node pressure), `Preempting` (kubelet admitting a critical pod). */
      reason: z.string().optional(),
      message: z.string().optional(),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }))
        .nullish(),
      containerStatuses: z.array(ContainerStatusSchema).nullish(),
    })
    .default({}),
});
export type Pod = z.infer<typeof PodSchema>;

/** Labels Spark puts on its pods. */
export const SparkPodLabel = {
  role: 'spark-role',
  executorId: 'spark-exec-id',
  appSelector: 'spark-app-selector',
} as const;

export function sparkRole(pod: Pod): 'driver' | 'executor' | undefined {
  const role = pod.metadata.labels?.[SparkPodLabel.role];
  return role === 'driver' || role === 'executor' ? role : undefined;
}

// ---- events -------------------------------------------------------------------------------

export const EventSchema = z.object({
  metadata: z.object({ name: z.string().optional(), uid: z.string().optional() }).default({}),
  reason: z.string().optional(),
  message: z.string().optional(),
  type: z.string().optional(),
  count: z.number().int().optional(),
  involvedObject: z.object({
    kind: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
  }),
  lastTimestamp: time,
});
export type KubeEvent = z.infer<typeof EventSchema>;

// ---- parsing ------------------------------------------------------------------------------

/** A response that does not have the shape Nightjar relies on. Retrying will not fix it. */
export class KubeObjectShapeError extends Error {
  readonly what: string;
  constructor(what: string, problems: readonly string[]) {
    super(`unexpected ${what} from the Kubernetes API: ${problems.join('; ')}`);
    this.name = 'KubeObjectShapeError';
    this.what = what;
  }
}

function parseWith<S extends z.ZodType>(schema: S, what: string, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new KubeObjectShapeError(what, problems);
}

export function parseSparkApplication(value: unknown): SparkApplicationObject {
  return parseWith(SparkApplicationObjectSchema, 'SparkApplication', value);
}

export function parsePod(value: unknown): Pod {
  return parseWith(PodSchema, 'Pod', value);
}

export function parseEvent(value: unknown): KubeEvent {
  return parseWith(EventSchema, 'Event', value);
}

/** The few fields of a pod the manifest records, read leniently (any pod object from a list or watch). */
interface RawPod {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: {
    readonly phase?: string;
    readonly reason?: string;
    readonly containerStatuses?: readonly { readonly state?: { readonly terminated?: { readonly exitCode?: number; readonly reason?: string } | null } | null }[] | null;
  };
}

/** A Spark pod as the manifest records it; undefined for a pod that is not Spark's driver or executor. */
export function attemptPodOf(raw: unknown): AttemptPod | undefined {
  const pod = raw as RawPod;
  const role = pod.metadata?.labels?.['spark-role'];
  const name = pod.metadata?.name;
  if ((role !== 'driver' && role !== 'executor') || name === undefined) return undefined;
  const end = pod.status?.containerStatuses?.[0]?.state?.terminated ?? undefined;
  const reason = end?.reason ?? pod.status?.reason;
  return {
    role,
    name,
    ...(pod.spec?.nodeName !== undefined ? { node: pod.spec.nodeName } : {}),
    ...(pod.status?.phase !== undefined ? { phase: pod.status.phase } : {}),
    ...(typeof end?.exitCode === 'number' ? { exitCode: end.exitCode } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}
