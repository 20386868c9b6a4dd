import type { SparkResources } from '../../src/domain/spark/resources';
import {
  parseSizingRecord,
  recordNight,
  SIZING_HISTORY_LIMIT,
  SizingRecordSchema,
  sizingPolicyProblems,
  startingResources,
  type SizingNight,
  type SizingPolicy,
  type SizingRecord,
} from '../../src/domain/spark/sizing';

const configured: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 1,
  executorMemoryMb: 2048,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};
const policy: SizingPolicy = { stepDownAfterCleanNights: 3, stepDownFactor: 2 };

function record(overrides: Partial<SizingRecord> = {}): SizingRecord {
  return {
    job: 'normalize',
    configured,
    learned: null,
    cleanNights: 0,
    lastBusinessDate: '2024-03-01',
    history: [],
    ...overrides,
  };
}

/** A night that succeeded on its first attempt with `startedFrom`. */
function cleanNight(businessDate: string, startedFrom: SparkResources, extra: Partial<SizingNight> = {}): SizingNight {
  return { job: 'normalize', businessDate, configured, startedFrom, finalResources: startedFrom, attempts: 1, succeeded: true, ...extra };
}

/** A night that ran out of memory with `startedFrom` and succeeded with `finalResources`. */
function escalatedNight(businessDate: string, startedFrom: SparkResources, finalResources: SparkResources): SizingNight {
  return { job: 'normalize', businessDate, configured, startedFrom, finalResources, attempts: 2, succeeded: true };
}

const date = (day: number) => `2024-03-${String(day).padStart(2, '0')}`;

describe('startingResources', () => {
  test('without a record, a night starts from the configured baseline', () => {
    expect(startingResources(configured, undefined)).toEqual({ resources: configured, source: 'configured', cleanNights: 0 });
  });

  test('with nothing learned, the configured baseline is used and the clean nights are reported', () => {
    expect(startingResources(configured, record({ cleanNights: 2 }))).toEqual({ resources: configured, source: 'configured', cleanNights: 2 });
  });

  test('learned resources are used while the configured baseline is unchanged', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    expect(startingResources(configured, record({ learned, cleanNights: 1 }))).toEqual({ resources: learned, source: 'learned', cleanNights: 1 });
  });

  test('no field starts below the configured baseline', () => {
    const learned = { ...configured, executorMemoryMb: 4096, executorInstances: 1, shufflePartitions: 4 };
    expect(startingResources(configured, record({ learned }))).toEqual({
      resources: { ...configured, executorMemoryMb: 4096 },
      source: 'learned',
      cleanNights: 0,
    });
  });

  test('after an operator raises the baseline, learned still applies when it covers every memory field', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    const raised = { ...configured, executorMemoryMb: 3072, executorInstances: 4 };
    expect(startingResources(raised, record({ learned, cleanNights: 2 }))).toEqual({
      resources: { ...configured, executorMemoryMb: 4096, executorInstances: 4 },
      source: 'learned',
      cleanNights: 2,
    });
  });

  test('after an operator raises the baseline above learned on a memory field, the baseline wins', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    const raised = { ...configured, driverMemoryMb: 2048 };
    expect(startingResources(raised, record({ learned, cleanNights: 2 }))).toEqual({ resources: raised, source: 'configured', cleanNights: 0 });
  });

  test('after a baseline change from a default to an explicit overhead, the baseline wins', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    const explicit = { ...configured, memoryOverheadMb: 512 };
    expect(startingResources(explicit, record({ learned }))).toMatchObject({ resources: explicit, source: 'configured' });
  });

  test('a lowered baseline keeps the learned resources', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    const lowered = { ...configured, driverMemoryMb: 512 };
    expect(startingResources(lowered, record({ learned }))).toEqual({ resources: learned, source: 'learned', cleanNights: 0 });
  });
});

describe('recordNight', () => {
  const bigger = { ...configured, executorMemoryMb: 4096 };

  test('a first clean night creates a record with nothing learned', () => {
    const result = recordNight(undefined, cleanNight(date(2), configured), policy);
    expect(result).toEqual({ record: record({ lastBusinessDate: date(2) }) });
  });

  test('a success after an escalation learns the final resources', () => {
    const { record: r, change } = recordNight(record(), escalatedNight(date(2), configured, bigger), policy);
    expect(change).toBe('learned');
    expect(r).toEqual(
      record({ learned: bigger, lastBusinessDate: date(2), history: [{ businessDate: date(2), change: 'learned', resources: bigger }] }),
    );
    expect(startingResources(configured, r)).toMatchObject({ resources: bigger, source: 'learned' });
  });

  test('a learned size that traded executors for memory starts with the configured executor count', () => {
    const traded = { ...configured, executorMemoryMb: 4096, executorInstances: 1 };
    const { record: r } = recordNight(record(), escalatedNight(date(2), configured, traded), policy);
    expect(r.learned).toEqual(bigger);
    expect(r.history[0]?.resources).toEqual(bigger);
  });

  test('a second escalation on top of learned resources learns the larger size and restarts the count', () => {
    const larger = { ...configured, executorMemoryMb: 8192 };
    const { record: r } = recordNight(record({ learned: bigger, cleanNights: 2 }), escalatedNight(date(2), bigger, larger), policy);
    expect(r).toMatchObject({ learned: larger, cleanNights: 0 });
  });

  describe('idempotency and order', () => {
    test('the same night recorded twice returns the record unchanged', () => {
      const first = recordNight(record(), escalatedNight(date(2), configured, bigger), policy).record;
      const again = recordNight(first, escalatedNight(date(2), configured, bigger), policy);
      expect(again).toEqual({ record: first });
      expect(again.record).toBe(first);
    });

    test('a retried clean night does not count twice', () => {
      const once = recordNight(record({ learned: bigger }), cleanNight(date(2), bigger), policy).record;
      expect(once.cleanNights).toBe(1);
      expect(recordNight(once, cleanNight(date(2), bigger), policy).record.cleanNights).toBe(1);
    });

    test('an older backfilled night does not roll sizing back', () => {
      const larger = { ...configured, executorMemoryMb: 8192 };
      const current = record({ learned: larger, lastBusinessDate: date(10) });
      const backfill = recordNight(current, { ...cleanNight(date(5), configured), succeeded: false }, policy);
      expect(backfill.record).toBe(current);
      expect(recordNight(current, escalatedNight(date(9), configured, bigger), policy).record).toBe(current);
    });

    test('a business date that is not YYYY-MM-DD is refused rather than misordered', () => {
      expect(() => recordNight(record(), cleanNight('2024-3-5', configured), policy)).toThrow('is not YYYY-MM-DD');
      expect(() => recordNight(record(), cleanNight('2024-02-30', configured), policy)).toThrow('is not YYYY-MM-DD');
    });

    test('a night of another job is refused', () => {
      expect(() => recordNight(record(), { ...cleanNight(date(2), configured), job: 'transform' }, policy)).toThrow(
        'sizing record of normalize cannot record a night of transform',
      );
    });
  });

  describe('clean nights and stepping down', () => {
    const larger: SparkResources = { ...configured, driverMemoryMb: 2048, executorMemoryMb: 8192 };

    test('clean nights with the learned resources are counted', () => {
      let r = record({ learned: larger });
      r = recordNight(r, cleanNight(date(2), larger), policy).record;
      r = recordNight(r, cleanNight(date(3), larger), policy).record;
      expect(r).toMatchObject({ learned: larger, cleanNights: 2, history: [] });
    });

    test('at N clean nights memory is divided by the factor and the count restarts', () => {
      const result = recordNight(record({ learned: larger, cleanNights: 2 }), cleanNight(date(2), larger), policy);
      const stepped = { ...configured, driverMemoryMb: 1024, executorMemoryMb: 4096 };
      expect(result.change).toBe('stepped-down');
      expect(result.record).toMatchObject({ learned: stepped, cleanNights: 0 });
      expect(result.record.history).toEqual([{ businessDate: date(2), change: 'stepped-down', resources: stepped }]);
    });

    test('stepped-down memory is rounded up to 64 MiB', () => {
      const result = recordNight(record({ learned: larger, cleanNights: 2 }), cleanNight(date(2), larger), { ...policy, stepDownFactor: 3 });
      // 8192 / 3 = 2730.7 → 2752; 2048 / 3 = 682.7 → 704, below the baseline → 1024.
      expect(result.record.learned).toEqual({ ...configured, executorMemoryMb: 2752 });
    });

    test('a step never goes below the baseline, and landing on it forgets the learned size', () => {
      const learned = { ...configured, executorMemoryMb: 3072 };
      const result = recordNight(record({ learned, cleanNights: 2 }), cleanNight(date(2), learned), policy);
      expect(result.change).toBe('stepped-down');
      expect(result.record).toMatchObject({ learned: null, cleanNights: 0 });
      expect(result.record.history).toEqual([{ businessDate: date(2), change: 'stepped-down', resources: configured }]);
      expect(startingResources(configured, result.record)).toMatchObject({ resources: configured, source: 'configured' });
    });

    test('executor count and shuffle partitions step back toward the baseline the same way', () => {
      const learned = { ...configured, executorMemoryMb: 4096, executorInstances: 5, shufflePartitions: 40 };
      const result = recordNight(record({ learned, cleanNights: 2 }), cleanNight(date(2), learned), policy);
      expect(result.record.learned).toEqual({ ...configured, executorInstances: 3, shufflePartitions: 20 });
    });

    test('an explicit overhead steps down too', () => {
      const base = { ...configured, memoryOverheadMb: 512 };
      const learned = { ...base, executorMemoryMb: 8192, memoryOverheadMb: 2048 };
      const night = { ...cleanNight(date(2), learned), configured: base };
      const result = recordNight(record({ configured: base, learned, cleanNights: 2 }), night, policy);
      expect(result.record.learned).toEqual({ ...base, executorMemoryMb: 4096, memoryOverheadMb: 1024 });
    });

    test('successive steps reach the baseline', () => {
      let r = record({ learned: larger });
      const starts: number[] = [];
      for (let day = 2; day <= 10; day++) {
        const start = startingResources(configured, r).resources;
        starts.push(start.executorMemoryMb);
        r = recordNight(r, cleanNight(date(day), start), policy).record;
      }
      expect(starts).toEqual([8192, 8192, 8192, 4096, 4096, 4096, 2048, 2048, 2048]);
      expect(r.learned).toBeNull();
      expect(r.history.map((h) => h.change)).toEqual(['stepped-down', 'stepped-down']);
    });

    test('with nothing learned, clean nights are not counted', () => {
      const r = recordNight(record(), cleanNight(date(2), configured), policy).record;
      expect(r.cleanNights).toBe(0);
    });
  });

  describe('nights that end the run of clean nights', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };

    test('a failed night keeps the learned size and resets the count', () => {
      const result = recordNight(record({ learned, cleanNights: 2 }), { ...cleanNight(date(2), learned), attempts: 4, succeeded: false }, policy);
      expect(result).toEqual({ record: record({ learned, cleanNights: 0, lastBusinessDate: date(2) }) });
    });

    test('a failed night after an escalation learns nothing', () => {
      const night = { ...escalatedNight(date(2), learned, { ...learned, executorMemoryMb: 8192 }), succeeded: false };
      expect(recordNight(record({ learned, cleanNights: 1 }), night, policy).record).toMatchObject({ learned, cleanNights: 0 });
    });

    test('a success after retries at the same size is not a clean night', () => {
      const result = recordNight(record({ learned, cleanNights: 2 }), { ...cleanNight(date(2), learned), attempts: 2 }, policy);
      expect(result.record).toMatchObject({ learned, cleanNights: 0 });
    });

    test('a night started from other resources (an override) is not a clean night for the learned size', () => {
      const override = { ...learned, executorMemoryMb: 6144 };
      const result = recordNight(record({ learned, cleanNights: 2 }), cleanNight(date(2), override), policy);
      expect(result.record).toMatchObject({ learned, cleanNights: 0 });
    });
  });

  describe('a changed configured baseline', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };

    test('learned that no longer covers the baseline is reset', () => {
      const raised = { ...configured, driverMemoryMb: 2048 };
      const result = recordNight(record({ learned, cleanNights: 2 }), { ...cleanNight(date(2), raised), configured: raised }, policy);
      expect(result.change).toBe('reset');
      expect(result.record).toEqual(
        record({
          configured: raised,
          learned: null,
          cleanNights: 0,
          lastBusinessDate: date(2),
          history: [{ businessDate: date(2), change: 'reset', resources: raised }],
        }),
      );
    });

    test('a reset and a new learned size can happen the same night; the newest change is reported', () => {
      const raised = { ...configured, driverMemoryMb: 2048 };
      const grown = { ...raised, executorMemoryMb: 4096 };
      const night = { ...escalatedNight(date(2), raised, grown), configured: raised };
      const result = recordNight(record({ learned }), night, policy);
      expect(result.change).toBe('learned');
      expect(result.record.learned).toEqual(grown);
      expect(result.record.history.map((h) => h.change)).toEqual(['reset', 'learned']);
    });

    test('learned that still covers the baseline is kept, raised to it, and keeps its count', () => {
      const raised = { ...configured, executorMemoryMb: 3072, executorInstances: 3 };
      const start = { ...learned, executorInstances: 3 };
      const result = recordNight(record({ learned, cleanNights: 1 }), { ...cleanNight(date(2), start), configured: raised }, policy);
      expect(result).toEqual({ record: record({ configured: raised, learned: start, cleanNights: 2, lastBusinessDate: date(2) }) });
    });
  });

  test('history keeps the newest entries only', () => {
    const history = Array.from({ length: SIZING_HISTORY_LIMIT }, (_, i) => ({
      businessDate: `2024-01-${String(i + 1).padStart(2, '0')}`,
      change: 'learned' as const,
      resources: configured,
    }));
    const { record: r } = recordNight(record({ history }), escalatedNight(date(2), configured, { ...configured, executorMemoryMb: 4096 }), policy);
    expect(r.history).toHaveLength(SIZING_HISTORY_LIMIT);
    expect(r.history[0]?.businessDate).toBe('2024-01-02');
    expect(r.history[SIZING_HISTORY_LIMIT - 1]).toMatchObject({ businessDate: date(2), change: 'learned' });
  });

  test('a job that needs more than configured settles after learning, stepping down and learning again', () => {
    // The job needs 3000 MiB of executor memory; escalation doubles it.
    const needs = 3000;
    let r: SizingRecord | undefined;
    const log: string[] = [];
    for (let day = 1; day <= 9; day++) {
      const start = startingResources(configured, r).resources;
      const ok = start.executorMemoryMb >= needs;
      const final = ok ? start : { ...start, executorMemoryMb: start.executorMemoryMb * 2 };
      const result = recordNight(
        r,
        { job: 'normalize', businessDate: date(day), configured, startedFrom: start, finalResources: final, attempts: ok ? 1 : 2, succeeded: true },
        policy,
      );
      r = result.record;
      log.push(`${start.executorMemoryMb}${result.change ? ` ${result.change}` : ''}`);
    }
    expect(log).toEqual(['2048 learned', '4096', '4096', '4096 stepped-down', '2048 learned', '4096', '4096', '4096 stepped-down', '2048 learned']);
  });
});

describe('SizingRecordSchema', () => {
  test('a record survives a JSON round trip and validates', () => {
    const learned = { ...configured, executorMemoryMb: 4096 };
    const { record: r } = recordNight(record(), escalatedNight(date(2), configured, learned), policy);
    const stored: unknown = JSON.parse(JSON.stringify(r));
    expect(SizingRecordSchema.parse(stored)).toEqual(r);
    expect(parseSizingRecord(stored)).toEqual(r);
  });

  test('an invalid record is refused with the path of each bad field', () => {
    const bad = { ...record(), learned: { ...configured, executorMemoryMb: -1 }, lastBusinessDate: '2024-02-30' };
    expect(() => parseSizingRecord(bad, 'sizing record normalize.json')).toThrow(
      /^invalid sizing record normalize\.json: learned\.executorMemoryMb: .+; lastBusinessDate: must be a calendar date written as YYYY-MM-DD$/,
    );
  });

  test('unknown jobs, negative counts, unknown changes and overlong histories are refused', () => {
    expect(SizingRecordSchema.safeParse({ ...record(), job: 'export' }).success).toBe(false);
    expect(SizingRecordSchema.safeParse({ ...record(), cleanNights: -1 }).success).toBe(false);
    expect(SizingRecordSchema.safeParse({ ...record(), cleanNights: 1.5 }).success).toBe(false);
    const entry = { businessDate: date(1), change: 'learned', resources: configured };
    expect(SizingRecordSchema.safeParse({ ...record(), history: [{ ...entry, change: 'grown' }] }).success).toBe(false);
    expect(SizingRecordSchema.safeParse({ ...record(), history: Array(SIZING_HISTORY_LIMIT + 1).fill(entry) }).success).toBe(false);
  });

  test('a missing record field is named', () => {
    const { history: _history, ...withoutHistory } = record();
    expect(() => parseSizingRecord(withoutHistory)).toThrow(/^invalid sizing record: history: /);
  });
});

test('sizing policy validation names each problem', () => {
  expect(sizingPolicyProblems(policy)).toEqual([]);
  expect(sizingPolicyProblems({ stepDownAfterCleanNights: 0, stepDownFactor: 1 })).toEqual([
    'stepDownAfterCleanNights must be an integer ≥ 1',
    'stepDownFactor must be a finite number > 1',
  ]);
  expect(sizingPolicyProblems({ stepDownAfterCleanNights: 2.5, stepDownFactor: Number.POSITIVE_INFINITY })).toHaveLength(2);
});
