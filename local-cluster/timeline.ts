/** What happened, in the order a SparkApplication's life can show it. */
export type TimelineWhat =
  /** The simulator saw a new SparkApplication (the platform's create, give or take a hook's delay). */
  | 'created'
  /** spark-submit ran: state SUBMITTED (detail: the scenario). */
  | 'submitted'
  /** spark-submit refused: the driver pod already exists (detail: the error message). */
  | 'submission-failed'
  /** Submitted, but no driver pod will ever come. */
  | 'stuck'
  /** The driver pod exists, Pending. */
  | 'driver-pending'
  /** The first failed pull of the driver image (detail: the pull error). */
  | 'image-pull-backoff'
  | 'driver-running'
  /** detail: the executor pod. */
  | 'executor-running'
  /** An executor died of OOM (detail: the executor pod and its exit code). */
  | 'executor-oom'
  /** Spark deleted a dead or lost executor and asked for another (detail: `old -> new`). */
  | 'executor-replaced'
  /** An object left without owner (detail: `resource/name`). */
  | 'straggler'
  /** The driver container was OOMKilled. */
  | 'driver-oom'
  /** The node evicted the driver pod. */
  | 'evicted'
  /** The driver exited non-zero for another reason (detail: exit code and reason). */
  | 'driver-failed'
  /** The driver pod was deleted under a running application. */
  | 'driver-lost'
  | 'driver-completed'
  /** state COMPLETED. */
  | 'completed'
  /** state FAILED (detail: the error message). */
  | 'failed'
  /** The SparkApplication is being deleted (or is gone): the simulator stopped working on it. */
  | 'deleted';

export interface TimelineEntry {
  /** `Date.now()` when it happened. */
  readonly at: number;
  /** The SparkApplication's name. */
  readonly app: string;
  readonly namespace?: string;
  /** Its `nightjar.io/attempt` label. */
  readonly attempt?: string;
  readonly what: TimelineWhat;
  readonly detail?: string;
}

export interface SimulatorStats {
  /** New SparkApplications picked up. */
  applicationsSeen: number;
  submissions: number;
  /** Driver and executor pods created. */
  podsCreated: number;
  driverPodsCreated: number;
  executorPodsCreated: number;
  executorOoms: number;
  executorReplacements: number;
  driverOoms: number;
  evictions: number;
  /** Failed image pulls, each attempt counted. */
  imagePullFailures: number;
  applicationErrors: number;
  driversLost: number;
  completed: number;
  failed: number;
  deleted: number;
  stragglers: number;
  eventsRecorded: number;
  driverLogLines: number;
  /** Watch connections cut by the chaos option. */
  watchesCut: number;
}

export function emptyStats(): SimulatorStats {
  return {
    applicationsSeen: 0,
    submissions: 0,
    podsCreated: 0,
    driverPodsCreated: 0,
    executorPodsCreated: 0,
    executorOoms: 0,
    executorReplacements: 0,
    driverOoms: 0,
    evictions: 0,
    imagePullFailures: 0,
    applicationErrors: 0,
    driversLost: 0,
    completed: 0,
    failed: 0,
    deleted: 0,
    stragglers: 0,
    eventsRecorded: 0,
    driverLogLines: 0,
    watchesCut: 0,
  };
}
