import type { SparkJobName, SparkResources, SparkAttemptOutcome } from '../domain/spark/resources';
import type { CleanupReport } from '../domain/pipeline';

/** Everything a platform needs to run one attempt of one Spark job. */
export interface SparkAttemptRequest {
  readonly attemptId: string;
  readonly workflowId: string;
  readonly businessDate: string;
  readonly job: SparkJobName;
  readonly attempt: number;
  readonly resources: SparkResources;
  /** Absolute path of the PySpark entry point on the worker; Kubernetes maps the job to its path in the image. */
  readonly mainFile: string;
  /** Arguments to the entry point, an array: never a shell string. */
  readonly args: readonly string[];
  /** Extra Spark configuration for this job (merged over the platform's defaults). */
  readonly sparkConf: Readonly<Record<string, string>>;
  /** Bytes of the attempt's input on this machine, when known: lets a platform start small jobs differently. */
  readonly inputBytes?: number;
}

/** A handle to a submitted attempt, enough to find it again after a worker restart. */
export interface SparkAttemptHandle {
  readonly attemptId: string;
  readonly platform: 'local' | 'kubernetes';
  /** Process id locally, SparkApplication name on Kubernetes. */
  readonly handle: string;
  readonly submittedAt: string;
  readonly logUri?: string;
}

/** Progress the platform reports while awaiting; becomes the activity heartbeat. */
export interface SparkProgress {
  readonly state: string;
  readonly elapsedMs: number;
  readonly detail?: string;
}

export interface AwaitOptions {
  /** Aborted when the activity is cancelled: stop the attempt and return. */
  readonly signal: AbortSignal;
  /**
   * Aborted when this watcher must go but the attempt must not (worker shutdown, activity
   * timeout): stop waiting and reject with the signal's reason, leaving the attempt running for
   * the next watcher to adopt.
   */
  readonly detach?: AbortSignal;
  readonly onProgress: (progress: SparkProgress) => void;
}

/**
 * Where Spark jobs run. Implementations: local `spark-submit` (this machine), and the
 * spark-operator on Kubernetes. Every method is idempotent by `attemptId`, so an activity
 * retried after a worker crash adopts what the first try started instead of starting twice.
 */
export interface SparkPlatform {
  readonly kind: 'local' | 'kubernetes';
  submit(request: SparkAttemptRequest): Promise<SparkAttemptHandle>;
  /** Resolves when the attempt has ended, with its classified outcome. On abort, stops it first. */
  await(handle: SparkAttemptHandle, options: AwaitOptions): Promise<SparkAttemptOutcome>;
  /** Stops the attempt if it still runs and removes everything it left; safe to call twice. */
  cleanup(attemptId: string): Promise<CleanupReport>;
  /**
   * Removes what attempts of closed or unknown workflows left behind (the janitor): on
   * Kubernetes the labelled objects, locally the attempts' work dirs and the detached drivers a
   * terminated (not cancelled) night left running. Every platform here has one; optional for
   * a platform that cannot leave anything behind.
   */
  sweep?(workflowState: (workflowId: string) => Promise<WorkflowState>, options: SweepOptions): Promise<SweepReport>;
  /** Releases what the platform holds open (watch connections). */
  close?(): Promise<void>;
}

// ---- the janitor's contract (platforms with a sweep) -------------------------------------------

/** What Temporal says about the workflow that made an object. */
export type WorkflowState = 'RUNNING' | 'CLOSED' | 'UNKNOWN';

/** One object a sweep examined, and why it went or stayed. */
export interface SweptObject {
  /** The platform's kind of object (on Kubernetes: SparkApplication, Pod, Service, ConfigMap, …). */
  readonly kind: string;
  readonly name: string;
  readonly workflowId: string | null;
  readonly attemptId: string | null;
  readonly reason: string;
}

export interface SweepOptions {
  readonly now: number;
  readonly minAgeMs: number;
  /** Report what would go without deleting anything. */
  readonly dryRun?: boolean;
}

export interface SweepReport {
  readonly namespace: string;
  readonly examined: number;
  readonly removed: readonly SweptObject[];
  readonly kept: readonly SweptObject[];
  /** Objects that should have gone but could not be deleted (with the error). */
  readonly failed: readonly (SweptObject & { readonly error: string })[];
  readonly dryRun: boolean;
}
