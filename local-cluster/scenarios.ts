import { SCENARIO_NAMES as DEMO_SCENARIO_NAMES, type ScenarioName as DemoScenarioName } from '../src/cli/options';
import type { SimulatedApplication } from './application';

/** What happens to the driver of one application. */
export type DriverFate =
  /** The driver runs its {@link DriverRuntime}, which decides how it exits. */
  | { readonly kind: 'runs' }
  /** The container is killed by its memory limit: exit 137, reason OOMKilled. */
  | { readonly kind: 'oom-killed' }
  /** The node evicts the pod: phase Failed, reason Evicted. */
  | { readonly kind: 'evicted'; readonly message: string }
  /** The image never pulls: the pod stays Pending, the application SUBMITTED. */
  | { readonly kind: 'image-pull-backoff'; readonly pullError: string }
  /** spark-submit never creates the driver pod: the application stays SUBMITTED. */
  | { readonly kind: 'no-pod' }
  /** The job fails: the driver writes `logLines` and exits with `exitCode`, reason Error. */
  | { readonly kind: 'fails'; readonly exitCode: number; readonly logLines: readonly string[] };

/** What happens to the executors of one application. */
export type ExecutorFate =
  | { readonly kind: 'healthy' }
  /**
   * Each executor dies `executorOomAfterMs` after it starts (137 OOMKilled, or 52 for the JVM's
   * own OutOfMemoryError) and Spark replaces it. The job makes no progress: the driver never
   * finishes, unless `abortAfterLosses` executors were lost, when Spark aborts the job (exit 1).
   */
  | { readonly kind: 'oom'; readonly exitCode: 137 | 52; readonly abortAfterLosses?: number };

/** The fate of one application, decided when the simulator first sees it. */
export interface ScenarioScript {
  /** Names the script in the timeline (`detail` of `submitted`). */
  readonly scenario: string;
  readonly driver: DriverFate;
  readonly executors: ExecutorFate;
  /**
   * Leave a PersistentVolumeClaim and a Service carrying the driver's labels and no owner, as
   * a failed owner-reference update or webhook would: only a cleanup by label selector finds them.
   */
  readonly stragglers: boolean;
}

/** The named scenarios with their parameters; every parameter has a default. */
export type NamedScenario =
  | { readonly name: 'success' }
  /** Executors with `spec.executor.memory` below `minExecutorMemoryMb` (default 2048) die of OOM, forever. */
  | { readonly name: 'executor-oom'; readonly minExecutorMemoryMb?: number; readonly exitCode?: 137 | 52; readonly abortAfterLosses?: number }
  /** A driver with `spec.driver.memory` below `minDriverMemoryMb` (default 2048) is OOMKilled. */
  | { readonly name: 'driver-oom'; readonly minDriverMemoryMb?: number }
  /**
   * The image cannot be pulled: not found (permanent), or with `registryUnavailable` an i/o
   * timeout to the registry (a passing trouble).
   */
  | { readonly name: 'image-pull-backoff'; readonly registryUnavailable?: boolean }
  /** The first `times` attempts (default 1) have their driver evicted for node memory pressure. */
  | { readonly name: 'eviction'; readonly times?: number }
  /** The first `times` attempts (default 1) never get a driver pod. */
  | { readonly name: 'stuck-submitted'; readonly times?: number }
  /** The job raises: exit `exitCode` (default 1) with a Python traceback ending in `error`. */
  | { readonly name: 'application-error'; readonly exitCode?: number; readonly error?: string }
  /** Succeeds, and leaves stragglers (see {@link ScenarioScript.stragglers}). */
  | { readonly name: 'leaky' };

export type ScenarioName = NamedScenario['name'];

/** A named scenario, or a function choosing the script per application. */
export type ScenarioChoice = ScenarioName | NamedScenario | ((app: SimulatedApplication) => ScenarioScript);

/** The names the demo's `--scenario` accepts are exactly the scenarios played here. */
export const SCENARIO_NAMES: readonly ScenarioName[] = DEMO_SCENARIO_NAMES;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameNames: Same<ScenarioName, DemoScenarioName> = true;
void sameNames;

export const DEFAULT_MIN_EXECUTOR_MEMORY_MB = 2048;
export const DEFAULT_MIN_DRIVER_MEMORY_MB = 2048;
export const EVICTION_MESSAGE = 'The node was low on resource: memory.';

const succeed = (scenario: string): ScenarioScript => ({ scenario, driver: { kind: 'runs' }, executors: { kind: 'healthy' }, stragglers: false });

function imagePullError(image: string, registryUnavailable: boolean): string {
  if (!registryUnavailable) {
    return `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`;
  }
  const registry = image.includes('/') ? (image.split('/')[0] ?? 'registry') : 'registry-1.docker.io';
  return `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": failed to do request: Head "https://${registry}/v2/": dial tcp 10.96.0.42:443: i/o timeout`;
}

/** What a PySpark job that raised leaves in the driver log (see docs/spark-jobs.md). */
export function pythonTraceback(mainApplicationFile: string, error: string): string[] {
  const file = mainApplicationFile.replace(/^local:\/\//, '');
  const colon = error.indexOf(':');
  const errorType = colon > 0 ? error.slice(0, colon) : 'RuntimeError';
  const message = colon > 0 ? error.slice(colon + 1).trim() : error;
  return [
    `NIGHTJAR_ERROR ${JSON.stringify({ error: errorType, message, javaClass: null, javaCauses: [], outOfMemory: false })}`,
    'Traceback (most recent call last):',
    `  File "${file}", line 212, in <module>`,
    '    main(sys.argv[1:])',
    `  File "${file}", line 198, in main`,
    '    result = run(spark, spec)',
    `  File "${file}", line 141, in run`,
    '    check_spec(spec)',
    `${errorType}: ${message}`,
  ];
}

/**
 * The script a named scenario gives one application. Deterministic: it depends only on the
 * attempt label and the resources in the spec, so escalating memory (or simply retrying, for
 * the `times` scenarios) is what makes a later attempt succeed.
 */
export function scenarioScript(scenario: ScenarioName | NamedScenario, app: SimulatedApplication): ScenarioScript {
  const named: NamedScenario = typeof scenario === 'string' ? ({ name: scenario } as NamedScenario) : scenario;
  switch (named.name) {
    case 'success':
      return succeed('success');
    case 'executor-oom': {
      const min = named.minExecutorMemoryMb ?? DEFAULT_MIN_EXECUTOR_MEMORY_MB;
      if (app.executor.memoryMb >= min) return succeed('executor-oom (enough memory)');
      return {
        ...succeed('executor-oom'),
        executors: {
          kind: 'oom',
          exitCode: named.exitCode ?? 137,
          ...(named.abortAfterLosses === undefined ? {} : { abortAfterLosses: named.abortAfterLosses }),
        },
      };
    }
    case 'driver-oom': {
      const min = named.minDriverMemoryMb ?? DEFAULT_MIN_DRIVER_MEMORY_MB;
      if (app.driver.memoryMb >= min) return succeed('driver-oom (enough memory)');
      return { ...succeed('driver-oom'), driver: { kind: 'oom-killed' } };
    }
    case 'image-pull-backoff':
      return { ...succeed('image-pull-backoff'), driver: { kind: 'image-pull-backoff', pullError: imagePullError(app.image, named.registryUnavailable ?? false) } };
    case 'eviction':
      if (app.attempt > (named.times ?? 1)) return succeed('eviction (spared)');
      return { ...succeed('eviction'), driver: { kind: 'evicted', message: EVICTION_MESSAGE } };
    case 'stuck-submitted':
      if (app.attempt > (named.times ?? 1)) return succeed('stuck-submitted (spared)');
      return { ...succeed('stuck-submitted'), driver: { kind: 'no-pod' } };
    case 'application-error': {
      const error = named.error ?? "ValueError: unknown reporting currency 'XXX'";
      return { ...succeed('application-error'), driver: { kind: 'fails', exitCode: named.exitCode ?? 1, logLines: pythonTraceback(app.mainApplicationFile, error) } };
    }
    case 'leaky':
      return { ...succeed('leaky'), stragglers: true };
  }
}
