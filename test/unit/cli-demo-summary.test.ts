import { ApplicationFailure } from '@temporalio/common';
import { failureDiagnostics, nightOverrides } from '../../demo/run-demo';
import { renderSummary } from '../../src/cli/render-summary';
import type { RunManifest } from '../../src/domain/pipeline';
import type { SparkResources } from '../../src/domain/spark/resources';

const resources = (executorMemoryMb: number): SparkResources => ({
  driverMemoryMb: 1024,
  driverCores: 2,
  executorMemoryMb,
  executorCores: 1,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
});

const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 1, 0, s)).toISOString();

const MANIFEST: RunManifest = {
  businessDate: '2026-11-23',
  status: 'COMPLETED',
  workflowId: 'nightjar-daily-2026-11-23',
  runId: 'run-1',
  startedAt: at(0),
  finishedAt: at(50),
  feeds: [],
  steps: [
    { step: 'ingest', status: 'COMPLETED', startedAt: at(0), finishedAt: at(1), attempts: [{ attempt: 1, outcome: 'SUCCEEDED', resources: null, startedAt: at(0), finishedAt: at(1), durationMs: 1000 }] },
    {
      step: 'normalize',
      status: 'COMPLETED',
      startedAt: at(1),
      finishedAt: at(40),
      attempts: [
        {
          attempt: 1,
          outcome: 'OUT_OF_MEMORY',
          oomSide: 'executor',
          reason: '2 executors lost to out-of-memory (limit 2)',
          resources: resources(2048),
          startedAt: at(1),
          finishedAt: at(5),
          durationMs: 4000,
          leftovers: 0,
          pods: [
            { role: 'driver', name: 'nj-a1-driver', node: 'kwok-a1', phase: 'Running' },
            { role: 'executor', name: 'nj-a1-exec-1', node: 'kwok-b2', phase: 'Failed', exitCode: 137, reason: 'OOMKilled' },
          ],
          podsOmitted: 3,
        },
        { attempt: 2, outcome: 'SUCCEEDED', reason: 'application completed', resources: resources(4096), startedAt: at(5), finishedAt: at(40), durationMs: 35000, leftovers: 0 },
      ],
    },
  ],
  reports: [{ table: 'eod_account_balances', rows: 373 }],
  sizing: [
    { job: 'normalize', source: 'configured', startedFrom: resources(2048), finalResources: resources(4096), next: resources(4096), cleanNights: 0, change: 'learned' },
  ],
};

test('the summary shows every Spark attempt: outcome, OOM side, driver and executor memory, executors, leftovers', () => {
  const text = renderSummary(MANIFEST, 'http://ui', '/tmp/manifest.json');
  expect(text).toContain('attempt 1: OUT_OF_MEMORY (executor) — driver 1,024 MiB, executors 2 × 2,048 MiB — leftovers 0');
  expect(text).toContain('2 executors lost to out-of-memory (limit 2)');
  expect(text).toContain('attempt 2: SUCCEEDED — driver 1,024 MiB, executors 2 × 4,096 MiB — leftovers 0');
  // Steps without Spark resources list no attempts.
  expect(text).not.toMatch(/attempt 1: SUCCEEDED\n/);
});

test('the summary lists the pods of a Kubernetes attempt: role, name, node, phase and how each ended, and how many more there were', () => {
  const text = renderSummary(MANIFEST, 'http://ui', '/tmp/manifest.json');
  expect(text).toContain('\n          driver nj-a1-driver on kwok-a1: Running\n          executor nj-a1-exec-1 on kwok-b2: Failed, exit 137 OOMKilled\n          … and 3 more pods');
});

test('the summary shows the learned sizing: where tonight started from, what the next night asks for, what changed', () => {
  const text = renderSummary(MANIFEST, 'http://ui', '/tmp/manifest.json');
  expect(text).toMatch(/Learned sizing/);
  expect(text).toMatch(/normalize\s+configured\s+next night: driver 1,024 MiB, executors 2 × 4,096 MiB \(learned; clean nights 0\)/);
  const { sizing: _sizing, ...withoutSizing } = MANIFEST;
  expect(renderSummary(withoutSizing, 'http://ui', '/tmp/manifest.json')).not.toMatch(/Learned sizing/);
});

test("a failed Spark job's driver log lines are found in the failure chain and shown", () => {
  const cause = ApplicationFailure.create({
    type: 'SparkJobFailed',
    message: 'normalize failed permanently on attempt 1',
    nonRetryable: true,
    details: [{ attempts: [], diagnostics: ['--- driver log (last lines) ---', "ValueError: unknown reporting currency 'XXX'"] }],
  });
  const error = new Error('Workflow execution failed', { cause: new Error('Child Workflow execution failed', { cause }) });
  const diagnostics = failureDiagnostics(error);
  expect(diagnostics).toEqual(['--- driver log (last lines) ---', "ValueError: unknown reporting currency 'XXX'"]);
  expect(failureDiagnostics(new Error('no details'))).toEqual([]);
  const text = renderSummary({ ...MANIFEST, status: 'FAILED' }, 'http://ui', '/tmp/manifest.json', { diagnostics });
  expect(text).toContain("  | ValueError: unknown reporting currency 'XXX'");
});

test("the demo night's overrides: --driver-memory for both jobs, the cluster scenario's sizes on top, nothing when neither is given", () => {
  expect(nightOverrides(undefined, undefined)).toEqual({});
  expect(nightOverrides(2048, undefined)).toEqual({ sparkOverrides: { normalize: { driverMemoryMb: 2048 }, transform: { driverMemoryMb: 2048 } } });
  expect(nightOverrides(undefined, { transform: { executorMemoryMb: 512, memoryOverheadMb: 100 } })).toEqual({ sparkOverrides: { transform: { executorMemoryMb: 512, memoryOverheadMb: 100 } } });
  expect(nightOverrides(2048, { transform: { executorMemoryMb: 512 } })).toEqual({
    sparkOverrides: { normalize: { driverMemoryMb: 2048 }, transform: { driverMemoryMb: 2048, executorMemoryMb: 512 } },
  });
});
