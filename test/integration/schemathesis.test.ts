/**
 * The trigger API as a third-party client sees it: schemathesis (pinned, installed by
 * scripts/api-tools.sh) reads the served OpenAPI document and sends generated requests — valid and
 * invalid, with and without the token, other methods — with every check on, a fixed seed and a
 * bounded count. The orchestrator behind the API is an in-memory one that keeps nights as
 * Temporal would (start, join, refuse other overrides, status), so the run is about the API.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { dailyWorkflowId } from '../../src/domain/ids';
import type { SparkOverrides } from '../../src/domain/pipeline';
import type { FeedArrival } from '../../src/domain/triggers';
import { TriggerRejected } from '../../src/triggers/errors';
import { createTriggerServer, type NightTriggers, type TriggerServer } from '../../src/triggers/http-api';
import { createLogger } from '../../src/worker/logger';
import type { PipelineStatus } from '../../src/workflows/messages';
import { REPO_ROOT } from '../helpers/temporal';
import { testPolicy } from '../helpers/trigger-policy';

jest.setTimeout(10 * 60_000);

const TOKEN = 'schemathesis-token-0123456789';
const SCHEMATHESIS = process.env['NIGHTJAR_SCHEMATHESIS'] ?? path.join(REPO_ROOT, '.cache', 'api-venv', 'bin', 'st');

/** Nights kept as Temporal keeps them: one per tenant and date, joined when running. */
class InMemoryNights implements NightTriggers {
  private readonly nights = new Map<string, { runId: string; overrides?: SparkOverrides; status: PipelineStatus }>();

  async startNight(req: { businessDate: string; tenant: string; sparkOverrides?: SparkOverrides }) {
    const workflowId = dailyWorkflowId(req.businessDate, req.tenant);
    const running = this.nights.get(workflowId);
    if (running === undefined) {
      this.nights.set(workflowId, { runId: `run-${this.nights.size + 1}`, ...(req.sparkOverrides ? { overrides: req.sparkOverrides } : {}), status: statusOf(req) });
      return { workflowId, runId: `run-${this.nights.size}`, started: true };
    }
    if (req.sparkOverrides !== undefined && JSON.stringify(req.sparkOverrides) !== JSON.stringify(running.overrides ?? {})) {
      throw new TriggerRejected({
        code: 'OVERRIDES_NOT_APPLIED',
        status: 409,
        message: 'the night is already running with other overrides',
        night: { workflowId, runId: running.runId, ...(running.overrides ? { sparkOverrides: running.overrides } : {}) },
      });
    }
    return { workflowId, runId: running.runId, started: false };
  }

  async reportFeedArrival(arrival: FeedArrival) {
    const workflowId = dailyWorkflowId(arrival.businessDate, arrival.tenant);
    if (!this.nights.has(workflowId)) this.nights.set(workflowId, { runId: `run-${this.nights.size + 1}`, status: statusOf(arrival) });
    return { workflowId, runId: this.nights.get(workflowId)!.runId };
  }

  async status(req: { businessDate: string; tenant: string }) {
    return this.nights.get(dailyWorkflowId(req.businessDate, req.tenant))?.status;
  }
}

function statusOf(night: { businessDate: string; tenant: string }): PipelineStatus {
  return {
    businessDate: night.businessDate,
    tenant: night.tenant,
    status: 'AWAITING_FEEDS',
    stage: 'awaiting-feeds',
    late: false,
    feeds: [{ feed: 'payments', required: true, state: 'WAITING', cutoffAt: '2026-04-01T06:00:00.000Z' }],
    manifestFeeds: [],
    steps: [],
    decisions: [],
    startedAt: '2026-04-01T00:00:00.000Z',
  };
}

let server: TriggerServer;
let url: string;
let reportDir: string;

beforeAll(async () => {
  // The deployment's own window and caps, as configured by default; one served tenant.
  server = createTriggerServer({
    triggers: new InMemoryNights(),
    policy: testPolicy(['acme'], { window: { pastDays: 731, futureDays: 1 } }),
    tokens: [TOKEN],
    logger: createLogger({ level: 'silent', redact: true }),
  });
  url = (await server.listen(0, '127.0.0.1')).url;
  reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-schemathesis-'));
});

afterAll(async () => {
  await server.close();
  fs.rmSync(reportDir, { recursive: true, force: true });
});

test('schemathesis, every check, fixed seed, bounded count: the served API keeps what its OpenAPI document says', async () => {
  expect(fs.existsSync(SCHEMATHESIS) ? SCHEMATHESIS : `missing ${SCHEMATHESIS}: run bash scripts/api-tools.sh`).toBe(SCHEMATHESIS);
  const args = [
    'run',
    `${url}/openapi.json`,
    '--checks', 'all',
    '--seed', '20261205',
    '--max-examples', '40',
    '--workers', '1',
    '--generation-database', 'none',
    '--no-color',
    '--header', `Authorization: Bearer ${TOKEN}`,
    '--report', 'junit',
    '--report-dir', reportDir,
  ];
  // Run in the report directory: schemathesis keeps a cache in its working directory.
  const run = await promisify(execFile)(SCHEMATHESIS, args, { cwd: reportDir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
  if (run.code !== 0) process.stderr.write(run.out);
  expect({ code: run.code, summary: run.out.split('\n').filter((l) => /passed|failed|error/i.test(l)).slice(-5) }).toEqual({ code: 0, summary: expect.anything() });
  // Every operation was tested, in every phase (not a run that tested nothing).
  expect(run.out).toMatch(/Tested: 6\b/);
  for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) expect(run.out).toMatch(new RegExp(`✅ ${phase}`));
  expect(run.out).toMatch(/No issues found/);
});
