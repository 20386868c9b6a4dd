import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment as SdkMockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createPlanActivities } from '../../src/activities/plan';
import { createSizingActivities, SizingStore } from '../../src/activities/sizing';
import { FailureType } from '../../src/common/failures';
import { DataLayout } from '../../src/common/layout';
import type { RecordSizingInput } from '../../src/domain/pipeline';
import { DEFAULT_ESCALATION } from '../../src/domain/spark/escalation';
import type { SparkJobName, SparkResources } from '../../src/domain/spark/resources';
import type { SizingPolicy, SizingRecord } from '../../src/domain/spark/sizing';

/** The SDK's mock, logging only errors, with a `call` that keeps argument and result types. */
class MockActivityEnvironment extends SdkMockActivityEnvironment {
  constructor() {
    super(undefined, { logger: new DefaultLogger('ERROR') });
  }

  call<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
    return this.run(fn, ...args) as Promise<R>;
  }
}

const CONFIGURED: Record<SparkJobName, SparkResources> = {
  normalize: { driverMemoryMb: 1024, driverCores: 1, executorMemoryMb: 1024, executorCores: 1, executorInstances: 2, memoryOverheadMb: null, shufflePartitions: 8 },
  transform: { driverMemoryMb: 2048, driverCores: 1, executorMemoryMb: 2048, executorCores: 2, executorInstances: 2, memoryOverheadMb: 512, shufflePartitions: 16 },
};
const POLICY: SizingPolicy = { stepDownAfterCleanNights: 2, stepDownFactor: 2 };
const withExecutorMemory = (mb: number): SparkResources => ({ ...CONFIGURED.normalize, executorMemoryMb: mb });

let dataDir: string;
let layout: DataLayout;
let env: MockActivityEnvironment;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-sizing-'));
  layout = new DataLayout(dataDir);
  env = new MockActivityEnvironment();
});

afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** The sizing and plan activities over one store, as the worker wires them (learned sizing on unless told). */
function activities(options: { learn?: boolean } = {}) {
  const store = new SizingStore(layout);
  return {
    ...createSizingActivities({ store, policy: POLICY, logger: pino({ enabled: false }) }),
    ...createPlanActivities({
      platform: 'kubernetes',
      defaultResources: CONFIGURED,
      escalation: DEFAULT_ESCALATION,
      feedWait: { timeZone: 'Europe/Brussels', deadlineHours: 4, pollSeconds: 60, optionalFeeds: [] },
      ...(options.learn === false ? {} : { learnedSizing: (job: SparkJobName) => store.read(job) }),
    }),
  };
}

/** Normalize's night: succeeded on the first attempt from `startedFrom`, unless told otherwise. */
function night(businessDate: string, startedFrom: SparkResources, extra: Partial<RecordSizingInput> = {}): RecordSizingInput {
  return {
    businessDate,
    job: 'normalize',
    source: 'learned',
    configured: CONFIGURED.normalize,
    startedFrom,
    finalResources: startedFrom,
    attempts: 1,
    succeeded: true,
    ...extra,
  };
}

/** Normalize's night that ran out of executor memory once and succeeded with twice as much. */
const escalatedNight = (businessDate: string): RecordSizingInput =>
  night(businessDate, CONFIGURED.normalize, { source: 'configured', finalResources: withExecutorMemory(2048), attempts: 2 });

const readRecord = async (job: SparkJobName): Promise<SizingRecord> => JSON.parse(await fs.readFile(layout.sizingFile(job), 'utf8')) as SizingRecord;

test('an escalated night is learned: the sizing file holds the final resources and the next plan starts from them', async () => {
  const a = activities();
  const entry = await env.call(a.recordSparkSizing, escalatedNight('2026-11-20'));
  expect(entry).toEqual({
    job: 'normalize',
    source: 'configured',
    startedFrom: CONFIGURED.normalize,
    finalResources: withExecutorMemory(2048),
    next: withExecutorMemory(2048),
    cleanNights: 0,
    change: 'learned',
  });

  const record = await readRecord('normalize');
  expect(record).toMatchObject({ job: 'normalize', configured: CONFIGURED.normalize, learned: withExecutorMemory(2048), cleanNights: 0, lastBusinessDate: '2026-11-20' });
  expect(record.history).toEqual([{ businessDate: '2026-11-20', change: 'learned', resources: withExecutorMemory(2048) }]);

  const plan = await env.call(a.planRun, { businessDate: '2026-11-21' });
  expect(plan.learnSizing).toBe(true);
  expect(plan.jobs.normalize).toMatchObject({ resources: withExecutorMemory(2048), configured: CONFIGURED.normalize, sizingSource: 'learned' });
  // A job that learned nothing starts from its configuration.
  expect(plan.jobs.transform).toMatchObject({ resources: CONFIGURED.transform, sizingSource: 'configured' });
});

test('a night that needed no escalation leaves nothing learned and the next plan starts from the configuration', async () => {
  const a = activities();
  const entry = await env.call(a.recordSparkSizing, night('2026-11-20', CONFIGURED.normalize, { source: 'configured' }));
  expect(entry).toMatchObject({ next: CONFIGURED.normalize, change: null });
  expect((await readRecord('normalize')).learned).toBeNull();
  const plan = await env.call(a.planRun, { businessDate: '2026-11-21' });
  expect(plan.jobs.normalize).toMatchObject({ resources: CONFIGURED.normalize, sizingSource: 'configured' });
});

test("a per-night override beats what the job learned", async () => {
  const a = activities();
  await env.call(a.recordSparkSizing, escalatedNight('2026-11-20'));
  const plan = await env.call(a.planRun, { businessDate: '2026-11-21', sparkOverrides: { normalize: { driverMemoryMb: 3072 } } });
  expect(plan.jobs.normalize).toMatchObject({
    resources: { ...CONFIGURED.normalize, driverMemoryMb: 3072 },
    configured: CONFIGURED.normalize,
    sizingSource: 'override',
  });
});

test('with learned sizing off the plan starts from the configuration, even when a sizing file exists', async () => {
  await env.call(activities().recordSparkSizing, escalatedNight('2026-11-20'));
  const plan = await env.call(activities({ learn: false }).planRun, { businessDate: '2026-11-21' });
  expect(plan.learnSizing).toBe(false);
  expect(plan.jobs.normalize).toMatchObject({ resources: CONFIGURED.normalize, sizingSource: 'configured' });
  expect(plan.jobs.transform).toMatchObject({ resources: CONFIGURED.transform, sizingSource: 'configured' });
});

test('recording the same business date twice changes nothing (a retried activity)', async () => {
  const a = activities();
  await env.call(a.recordSparkSizing, escalatedNight('2026-11-20'));
  const afterEscalation = await fs.readFile(layout.sizingFile('normalize'), 'utf8');
  const again = await env.call(a.recordSparkSizing, escalatedNight('2026-11-20'));
  expect(again).toMatchObject({ change: null, next: withExecutorMemory(2048), cleanNights: 0 });
  expect(await fs.readFile(layout.sizingFile('normalize'), 'utf8')).toBe(afterEscalation);

  // A clean night counts once, however often it is recorded.
  await env.call(a.recordSparkSizing, night('2026-11-21', withExecutorMemory(2048)));
  const afterClean = await fs.readFile(layout.sizingFile('normalize'), 'utf8');
  const cleanAgain = await env.call(a.recordSparkSizing, night('2026-11-21', withExecutorMemory(2048)));
  expect(cleanAgain).toMatchObject({ cleanNights: 1, change: null });
  expect(await fs.readFile(layout.sizingFile('normalize'), 'utf8')).toBe(afterClean);
  expect((await readRecord('normalize')).cleanNights).toBe(1);
});

test('after enough clean nights the size steps down toward the configuration, then back to it', async () => {
  const a = activities();
  // Escalated twice in one night: 1024 → 4096 MiB of executor memory.
  await env.call(a.recordSparkSizing, night('2026-11-20', CONFIGURED.normalize, { source: 'configured', finalResources: withExecutorMemory(4096), attempts: 3 }));

  /** Plans the night, then records it as clean from what the plan started with. */
  const cleanNight = async (businessDate: string) => {
    const plan = await env.call(a.planRun, { businessDate });
    const { resources, sizingSource } = plan.jobs.normalize;
    return env.call(a.recordSparkSizing, night(businessDate, resources, { source: sizingSource }));
  };

  expect(await cleanNight('2026-11-21')).toMatchObject({ startedFrom: withExecutorMemory(4096), cleanNights: 1, change: null, next: withExecutorMemory(4096) });
  expect(await cleanNight('2026-11-22')).toMatchObject({ startedFrom: withExecutorMemory(4096), cleanNights: 0, change: 'stepped-down', next: withExecutorMemory(2048) });
  expect((await env.call(a.planRun, { businessDate: '2026-11-23' })).jobs.normalize).toMatchObject({ resources: withExecutorMemory(2048), sizingSource: 'learned' });

  expect(await cleanNight('2026-11-23')).toMatchObject({ startedFrom: withExecutorMemory(2048), cleanNights: 1, change: null });
  expect(await cleanNight('2026-11-24')).toMatchObject({ startedFrom: withExecutorMemory(2048), change: 'stepped-down', next: CONFIGURED.normalize });
  expect((await readRecord('normalize')).learned).toBeNull();
  expect((await readRecord('normalize')).history.map((h) => [h.businessDate, h.change, h.resources.executorMemoryMb])).toEqual([
    ['2026-11-20', 'learned', 4096],
    ['2026-11-22', 'stepped-down', 2048],
    ['2026-11-24', 'stepped-down', 1024],
  ]);
  expect((await env.call(a.planRun, { businessDate: '2026-11-25' })).jobs.normalize).toMatchObject({ resources: CONFIGURED.normalize, sizingSource: 'configured' });
});

describe('a malformed sizing file', () => {
  const write = async (text: string) => {
    const file = layout.sizingFile('normalize');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    return file;
  };

  test('that does not match the record schema fails planning and recording as non-retryable InvalidInput naming the file', async () => {
    const file = await write(JSON.stringify({ job: 'normalize', configured: CONFIGURED.normalize, learned: null, cleanNights: -1 }));
    const a = activities();
    for (const run of [() => env.call(a.planRun, { businessDate: '2026-11-21' }), () => env.call(a.recordSparkSizing, escalatedNight('2026-11-21'))]) {
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/cleanNights/);
    }
    // Nothing was overwritten: an operator can still read what was there.
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ cleanNights: -1 });
  });

  test('that is not JSON at all fails as non-retryable InvalidInput naming the file', async () => {
    const file = await write('{"job": "normalize", "learned": ');
    const error = await env.call(activities().planRun, { businessDate: '2026-11-21' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: FailureType.InvalidInput, nonRetryable: true });
    expect((error as Error).message).toContain(file);
  });

  test('is not read at all when learned sizing is off', async () => {
    await write('garbage');
    const plan = await env.call(activities({ learn: false }).planRun, { businessDate: '2026-11-21' });
    expect(plan.jobs.normalize.sizingSource).toBe('configured');
  });
});
