import { DEFAULT_ESCALATION, escalateAfterOom, policyProblems, type EscalationPolicy } from '../../src/domain/spark/escalation';
import type { SparkResources } from '../../src/domain/spark/resources';

const base: SparkResources = {
  driverMemoryMb: 512,
  driverCores: 2,
  executorMemoryMb: 2048,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: 512,
  shufflePartitions: 8,
};
const policy: EscalationPolicy = { maxAttempts: 4, memoryFactor: 2, maxDriverMemoryMb: 1536, maxExecutorMemoryMb: 6144 };

test('a driver OOM doubles the driver memory and leaves the executors alone', () => {
  const d = escalateAfterOom(base, 'driver', policy);
  expect(d).toEqual({ escalate: true, resources: { ...base, driverMemoryMb: 1024 } });
});

test('the step is capped at the per-job maximum', () => {
  const d = escalateAfterOom({ ...base, driverMemoryMb: 1024 }, 'driver', policy);
  expect(d).toMatchObject({ escalate: true, resources: { driverMemoryMb: 1536 } });
});

test('at the cap there is nothing left to try, and the reason names the cap', () => {
  const d = escalateAfterOom({ ...base, driverMemoryMb: 1536 }, 'driver', policy);
  expect(d).toEqual({ escalate: false, reason: 'driver memory already at the cap of 1536 MiB' });
});

test('an executor OOM grows executor memory and its overhead by the same ratio', () => {
  const d = escalateAfterOom(base, 'executor', policy);
  expect(d).toEqual({ escalate: true, resources: { ...base, executorMemoryMb: 4096, memoryOverheadMb: 1024 } });
});

test('a default overhead stays default (Spark derives it from memory)', () => {
  const d = escalateAfterOom({ ...base, memoryOverheadMb: null }, 'executor', policy);
  expect(d).toMatchObject({ resources: { memoryOverheadMb: null } });
});

test('sizes are rounded up to 64 MiB and shuffle partitions may grow too', () => {
  const d = escalateAfterOom({ ...base, driverMemoryMb: 500 }, 'driver', { ...policy, memoryFactor: 1.5, shufflePartitionsFactor: 2, maxShufflePartitions: 12 });
  expect(d).toMatchObject({ resources: { driverMemoryMb: 768, shufflePartitions: 12 } });
});

test('policy validation names each problem', () => {
  expect(policyProblems(DEFAULT_ESCALATION)).toEqual([]);
  expect(policyProblems({ ...policy, maxAttempts: 0, memoryFactor: 1 })).toEqual(['maxAttempts must be an integer ≥ 1', 'memoryFactor must be > 1']);
});
