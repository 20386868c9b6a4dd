import { buildJobSpec, stepsAtOnce } from '../../src/activities/spark';
import { DataLayout } from '../../src/common/layout';
import type { SparkSubmitInput } from '../../src/domain/pipeline';

const THRESHOLDS = { largeValueRpt: 10000, structuringThresholdRpt: 10000, structuringBandLow: 0.8, structuringMinCount: 3 };
const RESOURCES = { driverMemoryMb: 1024, driverCores: 2, executorMemoryMb: 2048, executorCores: 1, executorInstances: 2, memoryOverheadMb: null, shufflePartitions: 8 };

function input(attempt: number): SparkSubmitInput {
  return {
    attemptId: `nj-20261120-transform-0123abcd-a${attempt}`,
    workflowId: 'nightjar-daily-2026-11-20',
    businessDate: '2026-11-20',
    job: 'transform',
    attempt,
    resources: RESOURCES,
    inputs: { accounts: 'file:///data/curated/accounts' },
  };
}

const context = (steps?: number) => ({
  layout: new DataLayout('/data'),
  reportingCurrency: 'EUR',
  thresholds: THRESHOLDS,
  ...(steps !== undefined ? { stepsAtOnce: steps } : {}),
});

test('a job\'s first attempt runs the configured steps side by side; every later attempt one at a time', () => {
  expect(stepsAtOnce(1, 3)).toBe(3);
  expect(stepsAtOnce(1, 1)).toBe(1);
  expect(stepsAtOnce(2, 3)).toBe(1);
  expect(stepsAtOnce(7, 2)).toBe(1);
});

test('the spec records the attempt\'s steps at once, and leaves the field out when the worker has no setting', () => {
  expect(buildJobSpec(input(1), context(2))).toMatchObject({ job: 'transform', attemptId: input(1).attemptId, stepsAtOnce: 2 });
  expect(buildJobSpec(input(2), context(2))).toMatchObject({ attemptId: input(2).attemptId, stepsAtOnce: 1 });
  expect(buildJobSpec(input(1), context())).not.toHaveProperty('stepsAtOnce');
});
