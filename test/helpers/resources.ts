import type { SparkResources } from '../../src/domain/spark/resources';

/** The smallest sizes a local Spark attempt starts with (Spark needs a 512 MiB driver heap). */
export const SMALL_RESOURCES: SparkResources = {
  driverMemoryMb: 512,
  driverCores: 1,
  executorMemoryMb: 512,
  executorCores: 1,
  executorInstances: 1,
  memoryOverheadMb: null,
  shufflePartitions: 2,
};
