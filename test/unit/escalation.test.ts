import {
  attemptFootprintMb,
  DEFAULT_ESCALATION,
  escalateAfterOom,
  podMemoryMb,
  policyProblems,
  type EscalationPolicy,
} from '../../src/domain/spark/escalation';
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

describe('notes when a cap held growth back', () => {
  test('a growth under every cap has no note', () => {
    expect(escalateAfterOom(base, 'driver', policy)).not.toHaveProperty('note');
    expect(escalateAfterOom(base, 'executor', policy)).not.toHaveProperty('note');
  });

  test('the per-job memory cap is named in the note', () => {
    expect(escalateAfterOom({ ...base, driverMemoryMb: 1024 }, 'driver', policy)).toMatchObject({ note: 'driver memory capped at 1536 MiB' });
    expect(escalateAfterOom({ ...base, executorMemoryMb: 4096 }, 'executor', policy)).toEqual({
      escalate: true,
      resources: { ...base, executorMemoryMb: 6144, memoryOverheadMb: 768 },
      note: 'executor memory capped at 6144 MiB',
    });
  });

  test('a capped shuffle partition count is named in the note', () => {
    const d = escalateAfterOom(base, 'driver', { ...policy, shufflePartitionsFactor: 2, maxShufflePartitions: 12 });
    expect(d).toMatchObject({ resources: { shufflePartitions: 12 }, note: 'shuffle partitions capped at 12' });
  });
});

describe('executor instances on an executor OOM', () => {
  test('a factor below 1 trades executors for bigger ones', () => {
    const d = escalateAfterOom({ ...base, executorInstances: 4 }, 'executor', { ...policy, executorInstancesFactor: 0.5 });
    expect(d).toEqual({ escalate: true, resources: { ...base, executorInstances: 2, executorMemoryMb: 4096, memoryOverheadMb: 1024 } });
  });

  test('the count is rounded and never drops below one executor', () => {
    const half = { ...policy, executorInstancesFactor: 0.5 };
    expect(escalateAfterOom({ ...base, executorInstances: 3 }, 'executor', half)).toMatchObject({ resources: { executorInstances: 2 } });
    expect(escalateAfterOom({ ...base, executorInstances: 1 }, 'executor', half)).toMatchObject({ resources: { executorInstances: 1 } });
    const tenth = { ...policy, executorInstancesFactor: 0.1 };
    expect(escalateAfterOom({ ...base, executorInstances: 4 }, 'executor', tenth)).toMatchObject({ resources: { executorInstances: 1 } });
  });

  test('a factor above 1 spreads the work, up to the instance cap', () => {
    const spread = { ...policy, executorInstancesFactor: 1.5 };
    expect(escalateAfterOom(base, 'executor', spread)).toMatchObject({ resources: { executorInstances: 3 } });
    expect(escalateAfterOom({ ...base, executorInstances: 6 }, 'executor', { ...spread, maxExecutorInstances: 8 })).toMatchObject({
      resources: { executorInstances: 8 },
      note: 'executor instances capped at 8',
    });
  });

  test('a driver OOM leaves the executor count alone', () => {
    const d = escalateAfterOom(base, 'driver', { ...policy, executorInstancesFactor: 0.5 });
    expect(d).toEqual({ escalate: true, resources: { ...base, driverMemoryMb: 1024 } });
  });

  test('an executor already at its memory cap is not escalated, whatever the instance factor', () => {
    const d = escalateAfterOom({ ...base, executorMemoryMb: 6144 }, 'executor', { ...policy, executorInstancesFactor: 2 });
    expect(d).toEqual({ escalate: false, reason: 'executor memory already at the cap of 6144 MiB' });
  });
});

describe('pod memory and attempt footprint', () => {
  test('an explicit overhead is added as it is', () => {
    expect(podMemoryMb(2048, 512)).toBe(2560);
  });

  test('a default overhead is PySpark\'s: 40% of the memory, truncated, at least 384 MiB', () => {
    expect(podMemoryMb(512, null)).toBe(512 + 384);
    expect(podMemoryMb(960, null)).toBe(960 + 384);
    expect(podMemoryMb(1024, null)).toBe(1024 + 409);
    expect(podMemoryMb(4096, null)).toBe(4096 + 1638);
  });

  test('the footprint counts the driver pod and every executor pod, the overhead on each', () => {
    expect(attemptFootprintMb(base)).toBe(512 + 512 + 2 * (2048 + 512));
    const defaults: SparkResources = { ...base, driverMemoryMb: 1024, executorMemoryMb: 4096, executorInstances: 3, memoryOverheadMb: null };
    expect(attemptFootprintMb(defaults)).toBe(1024 + 409 + 3 * (4096 + 1638));
  });
});

describe('namespace cap on the whole attempt', () => {
  test('an escalation that fits is not touched', () => {
    const d = escalateAfterOom(base, 'executor', { ...policy, maxTotalMemoryMb: 11776 });
    expect(d).toEqual({ escalate: true, resources: { ...base, executorMemoryMb: 4096, memoryOverheadMb: 1024 } });
    expect(attemptFootprintMb((d as { resources: SparkResources }).resources)).toBe(11776);
  });

  test('executor memory grows to the largest 64 MiB multiple that fits, overhead scaled with it', () => {
    const d = escalateAfterOom(base, 'executor', { ...policy, maxTotalMemoryMb: 10000 });
    expect(d).toEqual({
      escalate: true,
      resources: { ...base, executorMemoryMb: 3392, memoryOverheadMb: 896 },
      note: 'executor memory limited by namespace cap 10000 MiB (attempt needs 9984 MiB)',
    });
    // One more step of 64 MiB would not fit.
    expect(attemptFootprintMb({ ...base, executorMemoryMb: 3456, memoryOverheadMb: 896 })).toBeGreaterThan(10000);
  });

  test('a default overhead is counted as Spark will derive it', () => {
    const current: SparkResources = { ...base, driverMemoryMb: 1024, executorMemoryMb: 4096, executorInstances: 3, memoryOverheadMb: null };
    const d = escalateAfterOom(current, 'executor', { ...policy, maxExecutorMemoryMb: 16384, maxTotalMemoryMb: 30000 });
    expect(d).toMatchObject({ escalate: true, resources: { executorMemoryMb: 6784, memoryOverheadMb: null } });
    expect(attemptFootprintMb((d as { resources: SparkResources }).resources)).toBe(29924);
    expect(attemptFootprintMb({ ...current, executorMemoryMb: 6848 })).toBeGreaterThan(30000);
  });

  test('driver memory is limited the same way', () => {
    const d = escalateAfterOom(base, 'driver', { ...policy, maxTotalMemoryMb: 6400 });
    expect(d).toEqual({
      escalate: true,
      resources: { ...base, driverMemoryMb: 768 },
      note: 'driver memory limited by namespace cap 6400 MiB (attempt needs 6400 MiB)',
    });
  });

  test('the namespace note replaces the per-job cap note when it holds the size lower still', () => {
    const d = escalateAfterOom({ ...base, executorMemoryMb: 4096 }, 'executor', { ...policy, maxTotalMemoryMb: 12800 });
    expect(d).toMatchObject({ escalate: true, note: 'executor memory limited by namespace cap 12800 MiB (attempt needs 12672 MiB)' });
    expect(d).toMatchObject({ resources: { executorMemoryMb: 5120, memoryOverheadMb: 640 } });
  });

  test('when not even one 64 MiB step fits, there is no escalation and the reason names the cap and the footprints', () => {
    const d = escalateAfterOom(base, 'executor', { ...policy, maxTotalMemoryMb: 6400 });
    expect(d).toEqual({
      escalate: false,
      reason:
        'executor memory cannot grow within the namespace cap of 6400 MiB: the current attempt needs 6144 MiB ' +
        'and the smallest step (executor memory 2112 MiB) would need 6464 MiB',
    });
  });

  test('an attempt already over the cap is not escalated', () => {
    const d = escalateAfterOom(base, 'driver', { ...policy, maxTotalMemoryMb: 4096 });
    expect(d).toMatchObject({ escalate: false, reason: expect.stringContaining('namespace cap of 4096 MiB: the current attempt needs 6144 MiB') });
  });

  test('trading executors for bigger ones can make room under the cap', () => {
    const capped = { ...policy, maxTotalMemoryMb: 6400 };
    expect(escalateAfterOom(base, 'executor', capped)).toMatchObject({ escalate: false });
    const d = escalateAfterOom(base, 'executor', { ...capped, executorInstancesFactor: 0.5 });
    expect(d).toEqual({
      escalate: true,
      resources: { ...base, executorInstances: 1, executorMemoryMb: 3840, memoryOverheadMb: 960 },
      note: 'executor memory limited by namespace cap 6400 MiB (attempt needs 6272 MiB)',
    });
  });

  test('when more executors leave no room to grow, the count stays and the memory grows', () => {
    const d = escalateAfterOom(base, 'executor', { ...policy, executorInstancesFactor: 1.5, maxTotalMemoryMb: 8000 });
    expect(d).toEqual({
      escalate: true,
      resources: { ...base, executorMemoryMb: 2688, memoryOverheadMb: 704 },
      note: 'executor memory limited by namespace cap 8000 MiB (attempt needs 8000 MiB); executor instances kept at 2 by namespace cap 8000 MiB',
    });
  });

  test('the growth never exceeds the per-job cap, even with room in the namespace', () => {
    const d = escalateAfterOom({ ...base, executorMemoryMb: 4096 }, 'executor', { ...policy, maxTotalMemoryMb: 1_000_000 });
    expect(d).toMatchObject({ resources: { executorMemoryMb: 6144 }, note: 'executor memory capped at 6144 MiB' });
  });
});

test('policy validation covers the optional fields', () => {
  expect(policyProblems({ ...policy, executorInstancesFactor: 0.5, maxExecutorInstances: 10, maxTotalMemoryMb: 65536 })).toEqual([]);
  expect(
    policyProblems({
      ...policy,
      shufflePartitionsFactor: 0,
      maxShufflePartitions: 1.5,
      executorInstancesFactor: 0,
      maxExecutorInstances: 0,
      maxTotalMemoryMb: -1,
    }),
  ).toEqual([
    'shufflePartitionsFactor must be > 0',
    'maxShufflePartitions must be an integer ≥ 1',
    'executorInstancesFactor must be a finite number > 0',
    'maxExecutorInstances must be an integer ≥ 1',
    'maxTotalMemoryMb must be > 0',
  ]);
  expect(policyProblems({ ...policy, executorInstancesFactor: Number.NaN, maxTotalMemoryMb: Number.NaN })).toEqual([
    'executorInstancesFactor must be a finite number > 0',
    'maxTotalMemoryMb must be > 0',
  ]);
});
