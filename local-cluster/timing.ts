/** Every delay of the simulated operator, kubelet and Spark, in milliseconds. */
export interface SimulatorTiming {
  /** From a new SparkApplication to spark-submit: the driver pod and SUBMITTED. */
  readonly submitDelayMs: number;
  /** From the driver pod's creation to its container running. */
  readonly podStartMs: number;
  /** From an executor pod's creation to its container running. */
  readonly executorStartMs: number;
  /** How long an executor short of memory runs before it is killed. */
  readonly executorOomAfterMs: number;
  /** How long the default driver runtime works before it succeeds. */
  readonly runMs: number;
  /** From an executor's death to Spark deleting its pod and asking for a replacement. */
  readonly executorDeleteAfterMs: number;
  /** How long a driver doomed by its scenario (OOM, eviction, application error) runs before it ends. */
  readonly driverFailAfterMs: number;
  /** The first back-off after a failed image pull; it doubles, up to 16 times this. */
  readonly imagePullBackoffMs: number;
  /** From SUCCEEDING or FAILING to COMPLETED or FAILED. */
  readonly terminalDelayMs: number;
}

/** Fast enough for unit tests, slow enough that every intermediate state is observable. */
export const DEFAULT_TIMING: SimulatorTiming = {
  submitDelayMs: 5,
  podStartMs: 10,
  executorStartMs: 10,
  executorOomAfterMs: 15,
  runMs: 30,
  executorDeleteAfterMs: 5,
  driverFailAfterMs: 15,
  imagePullBackoffMs: 10,
  terminalDelayMs: 5,
};

export function resolveTiming(overrides: Partial<SimulatorTiming> = {}): SimulatorTiming {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const timing: SimulatorTiming = { ...DEFAULT_TIMING, ...given };
  for (const [key, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`simulator timing ${key} must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  return timing;
}
