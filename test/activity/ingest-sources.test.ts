/**
 * A feed announced by URI (a feedArrived signal, the HTTP API, Kafka) is read only from the data
 * directory or the configured feed roots: a sender cannot make the worker read a file of its choosing.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createIngestActivities } from '../../src/activities/ingest';
import { DataLayout, toUri } from '../../src/common/layout';
import { FailureType } from '../../src/common/failures';
import { generateFeeds } from '../../demo/feeds/generate-feeds';

const DATE = '2026-11-20';
let base: string;
let dataDir: string;
let inbox: string;
let outside: string;

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'nightjar-sources-'));
  dataDir = path.join(base, 'data');
  inbox = path.join(base, 'inbox');
  outside = path.join(base, 'elsewhere');
  for (const dir of [inbox, outside]) await generateFeeds({ landingDir: dir, businessDate: DATE, seed: 7, transactions: 50, defectRate: 0 });
  await generateFeeds({ landingDir: new DataLayout(dataDir).landingDir(DATE), businessDate: DATE, seed: 7, transactions: 50, defectRate: 0 });
  await fs.symlink(path.join(outside, 'fx_rates.csv'), path.join(new DataLayout(dataDir).landingDir(DATE), 'fx_rates-link.csv'));
});
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function ingestFrom(uri: string, feedRoots: string[] = []): Promise<{ failure?: ApplicationFailure; rowsIn?: number }> {
  const activities = createIngestActivities({ layout: new DataLayout(dataDir), logger: pino({ enabled: false }), feedRoots });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `nightjar-daily-${DATE}`, runId: 'run-1' } }, { logger: new DefaultLogger('ERROR') });
  try {
    const result = await env.run(activities.ingestFeed, { businessDate: DATE, feed: 'fx_rates' as const, sourceUri: uri });
    return { rowsIn: (result as { rowsIn: number }).rowsIn };
  } catch (error) {
    if (error instanceof ApplicationFailure) return { failure: error };
    throw error;
  }
}

const refused = (r: { failure?: ApplicationFailure }) => ({ type: r.failure?.type, nonRetryable: r.failure?.nonRetryable, message: r.failure?.message });

test('a file inside the data directory is read', async () => {
  expect(await ingestFrom(toUri(path.join(new DataLayout(dataDir).landingDir(DATE), 'fx_rates.csv')))).toMatchObject({ rowsIn: expect.any(Number) });
});

test('a configured feed root is read; without the setting it is refused', async () => {
  const uri = toUri(path.join(inbox, 'fx_rates.csv'));
  expect(await ingestFrom(uri, [inbox])).toMatchObject({ rowsIn: expect.any(Number) });
  expect(refused(await ingestFrom(uri))).toEqual({ type: FailureType.InvalidInput, nonRetryable: true, message: expect.stringContaining('outside the directories feeds are read from') });
});

test('.. segments, symlinks out of the data directory and other files of the worker are refused', async () => {
  const landing = new DataLayout(dataDir).landingDir(DATE);
  for (const uri of [
    `file://${landing}/../../../elsewhere/fx_rates.csv`,
    toUri(path.join(landing, 'fx_rates-link.csv')),
    'file:///etc/passwd',
    `file://${dataDir}-sibling/fx_rates.csv`,
  ]) {
    expect({ uri, ...refused(await ingestFrom(uri)) }).toEqual({ uri, type: FailureType.InvalidInput, nonRetryable: true, message: expect.stringMatching(/outside the directories feeds are read from .*NIGHTJAR_FEED_ROOTS/) });
  }
});
