/**
 * What stands in for the spark-operator and the kubelet on a local cluster — demo and test
 * support, never shipped. The control plane itself is real (scripts/k8s.sh); only what would
 * run containers is played here.
 */
export { LocalSparkOperator, type SparkOperatorOptions } from './spark-operator';
export { parseSparkMemoryMb, readApplication, type SimulatedApplication, type SimulatedPodSpec } from './application';
export {
  DEFAULT_MIN_DRIVER_MEMORY_MB,
  DEFAULT_MIN_EXECUTOR_MEMORY_MB,
  EVICTION_MESSAGE,
  SCENARIO_NAMES,
  pythonTraceback,
  scenarioScript,
  type DriverFate,
  type ExecutorFate,
  type NamedScenario,
  type ScenarioChoice,
  type ScenarioName,
  type ScenarioScript,
} from './scenarios';
export {
  scriptedDriver,
  writeCannedResult,
  type DriverContext,
  type DriverExit,
  type DriverRuntime,
  type ScriptedDriverOptions,
} from './driver-runtime';
export { DEFAULT_TIMING, type SimulatorTiming } from './timing';
export type { SimulatorStats, TimelineEntry, TimelineWhat } from './timeline';
export { DRIVER_CONTAINER, EXECUTOR_CONTAINER, OperatorLabel, SparkLabel } from './spark-objects';
export { driverExitFor, driverJavaOptions, jobFileFor, localAttemptId, localSparkDriver, type LocalSparkDriverOptions } from './local-spark-driver';
export { Gone, KubeWriter, type KubeObject, type StoredObject } from './kube';
