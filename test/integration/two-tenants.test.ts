/**
 * Two tenants on one Temporal namespace, each with its own deployment (worker, trigger API,
 * triggers the Kafka bridge and the CLI use), and a third with no worker at all. Every door of a
 * deployment serves its own tenant and refuses the others; a tenant's nights run on its own task
 * queue only; a night started by hand on the wrong queue is refused by the worker; a night is
 * listed from its start request on; a status no worker can answer is a prompt 503.
 */
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/config';
import { FEED_NAMES } from '../../src/domain/feeds/catalog';
import { dailyWorkflowId } from '../../src/domain/ids';
import { settleRecord, DEFAULT_BACKOFF, type DeadLetter } from '../../src/triggers/kafka-message';
import { TriggerRejected } from '../../src/triggers/errors';
import { createTriggerServer, type TriggerServer } from '../../src/triggers/http-api';
import { TemporalNightTriggers, triggerTargetOf, type TriggerTarget } from '../../src/triggers/temporal-triggers';
import { createLogger } from '../../src/worker/logger';
import { guardTenant } from '../../src/worker/tenant-guard';
import { SearchAttr } from '../../src/workflows/search-attributes';
import { fakeActivities } from '../helpers/fake-activities';
import { createDevServerEnv, REPO_ROOT, workflowBundle } from '../helpers/temporal';

jest.setTimeout(3 * 60_000);

const TOKEN = 'two-tenants-token-0123456789';
const logger = createLogger({ level: 'silent', redact: true });
/** A date inside the default window (yesterday, UTC) and the one before. */
const DATE = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const EARLIER = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

interface Deployment {
  readonly tenant: string;
  readonly target: TriggerTarget;
  readonly triggers: TemporalNightTriggers;
  readonly http: TriggerServer;
  url: string;
}

let env: TestWorkflowEnvironment;
const deployments: Record<'alpha' | 'beta' | 'gamma', Deployment> = {} as never;
let workers: Promise<void> | undefined;
const stopWorkers: (() => void)[] = [];

async function deploy(tenant: 'alpha' | 'beta' | 'gamma', withWorker: boolean): Promise<void> {
  // The deployment's own configuration: its tenant, and the task queue derived from it.
  const config = loadConfig({ NIGHTJAR_TENANT: tenant, NIGHTJAR_TEMPORAL_ADDRESS: env.address, NIGHTJAR_TEMPORAL_NAMESPACE: env.namespace ?? 'default' }, REPO_ROOT);
  const target = triggerTargetOf(config);
  const triggers = new TemporalNightTriggers(env.client, target);
  const http = createTriggerServer({ triggers, policy: target.policy, tokens: [TOKEN], logger });
  const url = (await http.listen(0, '127.0.0.1')).url;
  deployments[tenant] = { tenant, target, triggers, http, url };
  if (!withWorker) return;
  // Nights wait for their feeds (none arrive), so they stay running through the test.
  const { activities } = fakeActivities({ absentFeeds: [...FEED_NAMES] });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: target.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    interceptors: { activity: [guardTenant(config.tenant, target.taskQueue)] },
  });
  stopWorkers.push(() => worker.shutdown());
  const running = worker.run();
  workers = workers ? Promise.all([workers, running]).then(() => undefined) : running;
}

beforeAll(async () => {
  env = await createDevServerEnv();
  await deploy('alpha', true);
  await deploy('beta', true);
  await deploy('gamma', false);
});

afterAll(async () => {
  for (const stop of stopWorkers) stop();
  await workers;
  for (const d of Object.values(deployments)) await d.http.close();
  await env?.teardown();
});

async function api(d: Deployment, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: { error?: { code: string; message: string; night?: unknown } } & Record<string, unknown> }> {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as never };
}

test('each deployment starts only its own tenant’s nights, on its own task queue; every other tenant is 404 TENANT_NOT_SERVED', async () => {
  const { alpha, beta } = deployments;
  expect(alpha.target.taskQueue).toBe('nightjar-alpha');
  expect(beta.target.taskQueue).toBe('nightjar-beta');

  const started = await api(alpha, 'POST', `/v1/tenants/alpha/nights/${DATE}`);
  expect(started).toMatchObject({ status: 202, body: { workflowId: dailyWorkflowId(DATE, 'alpha'), started: true } });
  for (const tenant of ['beta', 'nosuchtenant', 'default']) {
    for (const [method, path, body] of [
      ['POST', `/v1/tenants/${tenant}/nights/${DATE}`, undefined],
      ['POST', `/v1/tenants/${tenant}/nights/${DATE}/feeds/payments`, { uri: 's3://landing/payments.csv' }],
      ['GET', `/v1/tenants/${tenant}/nights/${DATE}`, undefined],
    ] as const) {
      const refused = await api(alpha, method, path, body);
      expect([method, path, refused.status, refused.body.error?.code]).toEqual([method, path, 404, 'TENANT_NOT_SERVED']);
    }
  }
  // Nothing of those refusals reached Temporal.
  for (const tenant of ['beta', 'nosuchtenant']) await expect(env.client.workflow.getHandle(dailyWorkflowId(DATE, tenant)).describe()).rejects.toThrow();

  // beta's own deployment starts beta's night of the same date: another id, its own queue.
  expect(await api(beta, 'POST', `/v1/tenants/beta/nights/${DATE}/feeds/payments`, { uri: 's3://landing/beta/payments.csv' })).toMatchObject({ status: 202 });
  const a = await env.client.workflow.getHandle(dailyWorkflowId(DATE, 'alpha')).describe();
  const b = await env.client.workflow.getHandle(dailyWorkflowId(DATE, 'beta')).describe();
  expect([a.taskQueue, a.typedSearchAttributes.get(SearchAttr.tenant)]).toEqual(['nightjar-alpha', 'alpha']);
  expect([b.taskQueue, b.typedSearchAttributes.get(SearchAttr.tenant)]).toEqual(['nightjar-beta', 'beta']);

  // Each answers for its own night only.
  const status = await api(alpha, 'GET', `/v1/tenants/alpha/nights/${DATE}`);
  expect(status).toMatchObject({ status: 200, body: { tenant: 'alpha', businessDate: DATE } });
});

test('the Kafka bridge’s and the CLI’s triggers refuse another tenant before Temporal; the bridge dead-letters it with the reason', async () => {
  const { alpha } = deployments;
  const arrival = { businessDate: DATE, tenant: 'beta', feed: 'payments' as const, uri: 's3://landing/beta/payments.csv' };
  await expect(alpha.triggers.reportFeedArrival(arrival)).rejects.toMatchObject({ code: 'TENANT_NOT_SERVED', status: 404 });
  await expect(alpha.triggers.startNight({ businessDate: EARLIER, tenant: 'beta' })).rejects.toBeInstanceOf(TriggerRejected);
  await expect(alpha.triggers.status({ businessDate: DATE, tenant: 'beta' })).rejects.toMatchObject({ code: 'TENANT_NOT_SERVED' });

  const letters: DeadLetter[] = [];
  let committed = 0;
  const settled = await settleRecord(
    { topic: 'arrivals', partition: 0, offset: 7n, value: Buffer.from(JSON.stringify(arrival)), headerEntries: [], commit: () => void (committed += 1) },
    {
      deliver: async (a) => void (await alpha.triggers.reportFeedArrival(a)),
      isPermanent: (error) => error instanceof TriggerRejected, // as serve.ts wires the bridge
      publishDeadLetter: async (letter) => void letters.push(letter),
      pause: async () => true,
      stopping: () => false,
      backoff: DEFAULT_BACKOFF,
      log: logger,
    },
  );
  expect({ settled, committed, letters: letters.length }).toEqual({ settled: true, committed: 1, letters: 1 });
  const reason = [...letters[0]!.headers].find(([k]) => k.toString() === 'nightjar-dlq-reason')?.[1].toString();
  expect(reason).toBe("delivery refused: tenant 'beta' is not served here (this deployment serves 'alpha')");
});

test('a night of another tenant started by hand on alpha’s queue is refused by alpha’s worker (TenantNotServed) and fails', async () => {
  const handle = await env.client.workflow.start('dailyPipeline', {
    taskQueue: deployments.alpha.target.taskQueue,
    workflowId: dailyWorkflowId(EARLIER, 'beta'),
    args: [{ businessDate: EARLIER, tenant: 'beta' }],
  });
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  const history = JSON.stringify(await handle.fetchHistory());
  expect(history).toContain('TenantNotServed');
  expect(history).toContain("this worker serves tenant 'alpha' on task queue 'nightjar-alpha', not 'beta'");
});

test('a night is listed from its start request on, before any worker ran it; its status is a prompt 503 naming the queue', async () => {
  const { gamma } = deployments;
  const started = await api(gamma, 'POST', `/v1/tenants/gamma/nights/${DATE}`);
  expect(started.status).toBe(202);
  const described = await env.client.workflow.getHandle(dailyWorkflowId(DATE, 'gamma')).describe();
  expect([SearchAttr.businessDate, SearchAttr.tenant, SearchAttr.status, SearchAttr.stage].map((k) => described.typedSearchAttributes.get(k))).toEqual([
    DATE,
    'gamma',
    'RUNNING',
    'awaiting-feeds',
  ]);
  // The list (visibility) finds it too, by the attributes the UI filters on.
  let listed: string[] = [];
  for (let i = 0; i < 100 && listed.length === 0; i++) {
    listed = [];
    for await (const w of env.client.workflow.list({ query: `${SearchAttr.tenant.name} = 'gamma' AND ${SearchAttr.businessDate.name} = '${DATE}'` })) listed.push(w.workflowId);
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listed).toEqual([dailyWorkflowId(DATE, 'gamma')]);

  const status = await api(gamma, 'GET', `/v1/tenants/gamma/nights/${DATE}`);
  expect(status.status).toBe(503);
  expect(status.headers.get('retry-after')).toBe('30');
  expect(status.body.error).toEqual({ code: 'NO_WORKER_POLLING', message: expect.stringContaining("no worker is polling task queue 'nightjar-gamma'") });
});

test('a start that would join a running night with other overrides is 409 with the running night’s settings; the same overrides join', async () => {
  const { alpha } = deployments;
  const path = `/v1/tenants/alpha/nights/${EARLIER}`;
  const first = { normalize: { driverMemoryMb: 2048 } };
  expect(await api(alpha, 'POST', path, { sparkOverrides: first })).toMatchObject({ status: 202, body: { started: true } });
  const other = await api(alpha, 'POST', path, { sparkOverrides: { normalize: { driverMemoryMb: 4096 } } });
  expect(other.status).toBe(409);
  expect(other.body.error).toMatchObject({
    code: 'OVERRIDES_NOT_APPLIED',
    message: expect.stringContaining('is already running with other overrides'),
    night: { workflowId: dailyWorkflowId(EARLIER, 'alpha'), runId: expect.any(String), sparkOverrides: first },
  });
  expect(await api(alpha, 'POST', path, { sparkOverrides: first })).toMatchObject({ status: 202, body: { started: false } });
  expect(await api(alpha, 'POST', path)).toMatchObject({ status: 202, body: { started: false } });
});
