/**
 * What an operator sees when a command fails: one or two lines (what, why, what to do) and a
 * documented exit code, never a stack trace; `status` of a closed night with no worker anywhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { CliDeps } from '../../src/cli/context';
import { describeFailure, ExitCode } from '../../src/cli/exit-codes';
import { runCli } from '../../src/cli/main';
import { openReport } from '../../src/cli/report';
import { createKey } from '../../src/codec/keys';
import { PayloadDecryptionError, CodecErrorType } from '../../src/codec/errors';
import { DataLayout } from '../../src/common/layout';
import type { NightjarConfig } from '../../src/config/config';
import { renderNightReport } from '../../src/night-report/render';
import { completedNight } from '../helpers/manifests';

const DATE = '2026-11-20';
const WORKFLOW_ID = `nightjar-daily-${DATE}`;

interface FakeNight {
  readonly status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  readonly runId: string;
  readonly result?: unknown;
  readonly story?: string;
}

/** A Temporal client knowing at most one night; a status query (which needs a worker) fails the test. */
function fakeClient(night: FakeNight | undefined, extra: { executeUpdate?: () => Promise<never> } = {}): Client {
  const handle = {
    describe: async () => {
      if (!night) throw new WorkflowNotFoundError('workflow not found', WORKFLOW_ID, undefined);
      return {
        workflowId: WORKFLOW_ID,
        runId: night.runId,
        taskQueue: 'nightjar',
        status: { name: night.status },
        closeTime: new Date('2026-11-21T02:14:00Z'),
        typedSearchAttributes: { get: () => undefined },
        memo: night.story ? { nightjarStory: night.story } : undefined,
      };
    },
    result: async () => night?.result,
    query: async () => {
      throw new Error('no worker: the status query must not be asked for a closed night');
    },
    executeUpdate: extra.executeUpdate ?? (async () => ({ accepted: true })),
  };
  return { workflow: { getHandle: () => handle } } as unknown as Client;
}

async function cli(args: string[], client: Client | undefined, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  let connectedWith: NightjarConfig | undefined;
  const deps: CliDeps = {
    output: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    env,
    connect: async (config) => {
      connectedWith = config;
      if (!client) throw new TypeError("Cannot read properties of undefined (reading 'workflow')");
      return { client, close: async () => undefined };
    },
  };
  const code = await runCli(['node', 'nightjar', ...args], deps);
  return { code, stdout, stderr, connectedWith };
}

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-cli-failures-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const oneLine = (text: string) => {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
};

test('status of an unknown night: one line saying so, exit 1', async () => {
  const run = await cli(['status', '--date', DATE, '--data-dir', dataDir], fakeClient(undefined));
  expect(run.code).toBe(ExitCode.Refused);
  expect(run.stderr).toBe(`error: no night default ${DATE} is known to Temporal (workflow ${WORKFLOW_ID})\n`);
});

test('status of a completed night answers without a worker, from its manifest (with the report path), under --business-date too', async () => {
  const layout = new DataLayout(dataDir);
  const manifest = { ...completedNight(DATE), runId: 'r1' };
  fs.mkdirSync(layout.runDir(DATE), { recursive: true });
  fs.writeFileSync(layout.manifestFile(DATE), JSON.stringify(manifest));
  fs.writeFileSync(layout.reportFile(DATE), renderNightReport(manifest));
  const run = await cli(['status', '--business-date', DATE, '--data-dir', dataDir], fakeClient({ status: 'COMPLETED', runId: 'r1' }));
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`Night default ${DATE}: COMPLETED (closed 2026-11-21T02:14:00.000Z; told from its run manifest)`);
  expect(run.stdout).toContain(`report ${layout.reportFile(DATE)}`);
  expect(run.stdout).toMatch(/transactions\s+20,000\s+19,954\s+46\s+20,000\s+yes/);
});

test("status of a closed night whose manifest is another run's: told from the workflow's result", async () => {
  const layout = new DataLayout(dataDir);
  fs.mkdirSync(layout.runDir(DATE), { recursive: true });
  fs.writeFileSync(layout.manifestFile(DATE), JSON.stringify({ ...completedNight(DATE), runId: 'older-run' }));
  const m = completedNight(DATE);
  const result = { businessDate: DATE, status: 'COMPLETED', manifestUri: 'file:///x/manifest.json', feeds: m.feeds, reports: m.reports };
  const run = await cli(['status', '--date', DATE, '--data-dir', dataDir, '--json'], fakeClient({ status: 'COMPLETED', runId: 'r2', result }));
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ closed: true, status: 'COMPLETED', source: 'result', runId: 'r2', result: { manifestUri: 'file:///x/manifest.json' } });
});

test("a closed night with no manifest here and a failure: told from Temporal, with the story its memo keeps", async () => {
  const story = '**FAILED** — default 2026-11-20: 5 feeds, 33,030 rows in, 59 rejected; 0 report rows; stopped at transform (SparkOutOfMemory)';
  const run = await cli(['status', '--date', DATE, '--data-dir', dataDir], fakeClient({ status: 'FAILED', runId: 'r3', story }));
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`Night default ${DATE}: FAILED (closed 2026-11-21T02:14:00.000Z; as Temporal closed it (no manifest in this data directory))`);
  expect(run.stdout).toContain('  FAILED — default 2026-11-20: 5 feeds, 33,030 rows in, 59 rejected; 0 report rows; stopped at transform (SparkOutOfMemory)');
});

test('resolve while the night cannot answer (no worker, or a failing workflow task): one line, exit 1', async () => {
  const update = async (): Promise<never> => {
    throw new WorkflowUpdateRPCTimeoutOrCancelledError('Timed out waiting for update response');
  };
  const run = await cli(['resolve', '--date', DATE, '--step', 'ingest', '--feed', 'payments', '--action', 'retry', '--data-dir', dataDir], fakeClient({ status: 'RUNNING', runId: 'r' }, { executeUpdate: update }));
  expect(run.code).toBe(ExitCode.Refused);
  expect(run.stderr).toMatch(/^error: the night did not answer in time: no worker is polling its task queue, or its workflow task is failing/);
  oneLine(run.stderr);
});

test('an unexpected failure is one line naming the command, exit 3, no stack trace', async () => {
  const run = await cli(['status', '--date', DATE, '--data-dir', dataDir], undefined);
  expect(run.code).toBe(ExitCode.Internal);
  expect(run.stderr).toBe(
    "error: unexpected failure in 'nightjar status' (TypeError): Cannot read properties of undefined (reading 'workflow') — this is a bug in nightjar; please report this line\n",
  );
});

test('Temporal errors, key errors and system errors get words for what to do', () => {
  const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established' });
  expect(describeFailure(new ServiceError('Failed to query Workflow', { cause: grpc }))).toEqual({
    code: 1,
    message: 'cannot reach Temporal: No connection established; is the server running (NIGHTJAR_TEMPORAL_ADDRESS)?',
  });
  const deadline = Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4, details: 'query timed out' });
  expect(describeFailure(new ServiceError('Failed to query Workflow', { cause: deadline })).message).toBe('Temporal did not answer in time: query timed out; is a worker running?');
  const unknownKey = new PayloadDecryptionError(CodecErrorType.UnknownKey, 'k9', "payload encrypted with key 'k9', which is not in the keys directory /d/keys");
  expect(describeFailure(new Error('decode failed', { cause: unknownKey }))).toEqual({ code: 2, message: `cannot read the night's payloads: ${unknownKey.message}` });
  const enoent = Object.assign(new Error("EACCES: permission denied, open '/data/x'"), { code: 'EACCES', syscall: 'open', path: '/data/x' });
  expect(describeFailure(enoent)).toEqual({ code: 1, message: 'open /data/x failed (EACCES): check the path and its permissions' });
  expect(describeFailure(new Error('Temporal CLI not found at /x/temporal: run npm run bootstrap first'))).toEqual({ code: 1, message: 'Temporal CLI not found at /x/temporal: run npm run bootstrap first' });
});

test("every command reads <data-dir>/keys like the demo: the newest key encrypts, all decrypt", async () => {
  const keysDir = path.join(dataDir, 'keys');
  createKey(keysDir, 'demo-20261101-aaaaaaaa');
  createKey(keysDir, 'demo-20261120-bbbbbbbb');
  const run = await cli(['status', '--date', DATE, '--data-dir', dataDir], fakeClient(undefined));
  expect(run.connectedWith?.encryption).toEqual({ keysDir, activeKeyId: 'demo-20261120-bbbbbbbb' });
  // Configured keys win over the data directory's.
  const configured = await cli(['status', '--date', DATE, '--data-dir', dataDir], fakeClient(undefined), { NIGHTJAR_ENCRYPTION_KEYS_DIR: '/etc/nightjar/keys', NIGHTJAR_ENCRYPTION_KEY_ID: 'prod-1' });
  expect(configured.connectedWith?.encryption).toEqual({ keysDir: '/etc/nightjar/keys', activeKeyId: 'prod-1', plaintext: 'accept' });
});

test('report: prints the path of an existing page, renders a missing one from the manifest, refuses a night without one', async () => {
  const layout = new DataLayout(dataDir);
  const none = await cli(['report', '--date', DATE, '--data-dir', dataDir], undefined);
  expect(none.code).toBe(1);
  expect(none.stderr).toBe(`error: no report for ${DATE}: there is no run manifest at ${layout.manifestFile(DATE)} (a night writes both when it ends); see where it stands with: nightjar status --date ${DATE}\n`);
  fs.mkdirSync(layout.runDir(DATE), { recursive: true });
  fs.writeFileSync(layout.manifestFile(DATE), JSON.stringify(completedNight(DATE)));
  const rendered = await cli(['report', '--business-date', DATE, '--data-dir', dataDir, '--json'], undefined);
  expect(JSON.parse(rendered.stdout)).toMatchObject({ path: layout.reportFile(DATE), rendered: true });
  expect(fs.readFileSync(layout.reportFile(DATE), 'utf8')).toContain('Night of 2026-11-20');
  const again = await cli(['report', '--date', DATE, '--data-dir', dataDir], undefined);
  expect(again.stdout).toBe(`${layout.reportFile(DATE)}\n`);
});

test('report --open without a desktop opener says where the page is instead of failing', () => {
  expect(openReport('/data/runs/2026-11-20/report.html', '')).toBe(
    `no ${process.platform === 'darwin' ? 'open' : 'xdg-open'} on this machine: open file:///data/runs/2026-11-20/report.html in a browser`,
  );
});
