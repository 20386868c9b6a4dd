/**
 * The trigger doors end to end: the Kafka bridge, the HTTP API and `serveTriggers` in front of
 * `TemporalNightTriggers`, against the real broker of scripts/kafka.sh and a Temporal dev server.
 * The daily pipeline is the real workflow; its activities are fakes whose landing zone shows no
 * feed, so a night goes on only when the doors signal its five feeds.
 */
import { createServer } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config/config';
import { FEED_NAMES, type FeedName } from '../../src/domain/feeds/catalog';
import { dailyWorkflowId } from '../../src/domain/ids';
import type { FeedArrival } from '../../src/domain/triggers';
import { TriggerRejected, type ApiErrorBody } from '../../src/triggers/errors';
import { createTriggerServer } from '../../src/triggers/http-api';
import { DLQ_HEADERS, KafkaBridge, ensureTopics } from '../../src/triggers/kafka-bridge';
import { serveTriggers } from '../../src/triggers/serve';
import { TemporalNightTriggers } from '../../src/triggers/temporal-triggers';
import type { dailyPipeline } from '../../src/workflows/daily-pipeline';
import type { FeedState, PipelineStatus } from '../../src/workflows/messages';
import { fakeActivities } from '../helpers/fake-activities';
import { REPO_ROOT, createDevServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { committedOffsets, groupState, header, json, memoryLogger, publish, readTopic, testBrokers, uniqueName, waitFor } from './kafka-helpers';
import { everyTenant, testPolicy, testTarget } from '../helpers/trigger-policy';

jest.setTimeout(60_000);

const TOKEN = 'nj-e2e-token-5d4c3b2a19087f6e';

let brokers: string[];
let env: TestWorkflowEnvironment;
/** Every night a test may have started; those still running are terminated after the file. */
const nightIds = new Set<string>();
/** Doors a test opened (bridges, servers), stopped after it even when it failed. */
const openDoors: (() => Promise<void>)[] = [];

let taskQueue: string;
let worker: Worker;
let workerRun: Promise<void>;

beforeAll(async () => {
  brokers = testBrokers();
  env = await createDevServerEnv();
  await workflowBundle();
});

afterAll(async () => {
  if (env) {
    await Promise.all(
      [...nightIds].map(async (id) => {
        const handle = env.client.workflow.getHandle(id);
        const described = await handle.describe().catch(() => undefined);
        if (described?.status.name === 'RUNNING') await handle.terminate('triggers-e2e cleanup');
      }),
    );
  }
  await env?.teardown();
});

beforeEach(async () => {
  taskQueue = uniqueId('triggers-e2e');
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: fakeActivities({ absentFeeds: [...FEED_NAMES] }).activities,
  });
  workerRun = worker.run();
});

afterEach(async () => {
  for (const close of openDoors.splice(0).reverse()) await close();
  worker.shutdown();
  await workerRun;
});

// ---------------------------------------------------------------------------------------------
// Nights, arrivals and status
// ---------------------------------------------------------------------------------------------

interface Night {
  readonly businessDate: string;
  readonly tenant: string;
  readonly workflowId: string;
}

let nightCount = 0;
/** The nights of this file are in 2031: a window that reaches them. */
const FAR_WINDOW = { pastDays: 3660, futureDays: 3660 };
/** A business date and tenant no other test uses (the dev server keeps every night of the file). */
function uniqueNight(sameTenantAs?: Night): Night {
  nightCount += 1;
  const businessDate = new Date(Date.UTC(2031, 0, 1) + nightCount * 86_400_000).toISOString().slice(0, 10);
  const tenant = sameTenantAs?.tenant ?? `e2e-${process.pid.toString(36)}-${nightCount}`;
  const workflowId = dailyWorkflowId(businessDate, tenant);
  nightIds.add(workflowId);
  return { businessDate, tenant, workflowId };
}

function arrivalFor(night: Night, feed: FeedName, eventId = `${feed}-1`): FeedArrival {
  return { businessDate: night.businessDate, tenant: night.tenant, feed, uri: `s3://landing/${night.tenant}/${night.businessDate}/${feed}.csv`, eventId };
}

const feedOf = (status: PipelineStatus, feed: FeedName): FeedState | undefined => status.feeds.find((f) => f.feed === feed);

const nightHandle = (night: Night) => env.client.workflow.getHandle<typeof dailyPipeline>(night.workflowId);

/** Polls the night's status (through the triggers, as the HTTP API does) until `done` holds. */
async function statusWhen(triggers: TemporalNightTriggers, night: Night, what: string, done: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  let last: PipelineStatus | undefined;
  await waitFor(what, async () => {
    last = await triggers.status(night);
    return last !== undefined && done(last);
  });
  return last as PipelineStatus;
}

// ---------------------------------------------------------------------------------------------
// Doors
// ---------------------------------------------------------------------------------------------

interface Topics {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly groupId: string;
}

async function kafkaTopics(): Promise<Topics> {
  const topic = uniqueName('e2e-feed-arrivals');
  const dlqTopic = `${topic}.dlq`;
  await ensureTopics(brokers, [topic, dlqTopic]);
  return { topic, dlqTopic, groupId: uniqueName('e2e-bridge') };
}

/** A bridge wired as serve.ts wires it; `deliver` defaults to the triggers' signal-with-start. */
async function startBridge(t: Topics, deliver: (arrival: FeedArrival) => Promise<void>): Promise<KafkaBridge> {
  const bridge = new KafkaBridge({
    brokers,
    topic: t.topic,
    dlqTopic: t.dlqTopic,
    groupId: t.groupId,
    clientId: uniqueName('e2e-bridge'),
    logger: memoryLogger().logger,
    backoff: { initialMs: 20, maxMs: 200 },
    isPermanent: (error) => error instanceof TriggerRejected,
    deliver,
  });
  openDoors.push(() => bridge.stop());
  await bridge.start();
  return bridge;
}

const deliverTo = (triggers: TemporalNightTriggers) => async (arrival: FeedArrival) => {
  await triggers.reportFeedArrival(arrival);
};

interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

async function call<T = unknown>(baseUrl: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpAnswer<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

async function startHttp(triggers: TemporalNightTriggers): Promise<string> {
  const server = createTriggerServer({ triggers, policy: testPolicy(everyTenant(), { window: FAR_WINDOW }), tokens: [TOKEN], logger: memoryLogger().logger });
  const { url } = await server.listen(0);
  openDoors.push(() => server.close());
  return url;
}

const nightPath = (night: Night) => `/v1/tenants/${night.tenant}/nights/${night.businessDate}`;
const feedPath = (night: Night, feed: FeedName) => `${nightPath(night)}/feeds/${feed}`;

interface Started {
  readonly workflowId: string;
  readonly runId: string;
  readonly started: boolean;
}

async function statusOverHttp(url: string, night: Night, what: string, done: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  let last: HttpAnswer<PipelineStatus> | undefined;
  await waitFor(what, async () => {
    last = await call<PipelineStatus>(url, 'GET', nightPath(night));
    return last.status === 200 && done(last.body);
  });
  return (last as HttpAnswer<PipelineStatus>).body;
}

/** A TCP port free right now (the configuration refuses port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

// ---------------------------------------------------------------------------------------------
// Kafka → Temporal
// ---------------------------------------------------------------------------------------------

describe('Kafka → Temporal', () => {
  test('an arrival for a night that does not exist yet starts it with the feed ARRIVED by signal; all five complete it; the offsets are committed', async () => {
    const triggers = new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) });
    const night = uniqueNight();
    const t = await kafkaTopics();
    expect(await triggers.status(night)).toBeUndefined();

    const bridge = await startBridge(t, deliverTo(triggers));
    const first = arrivalFor(night, 'transactions');
    await publish(brokers, t.topic, [{ key: night.workflowId, value: json(first) }]);

    const waiting = await statusWhen(triggers, night, 'transactions to arrive', (s) => feedOf(s, 'transactions')?.state === 'ARRIVED');
    expect(feedOf(waiting, 'transactions')).toMatchObject({ state: 'ARRIVED', via: 'signal', uri: first.uri });
    expect(waiting.feeds.filter((f) => f.state === 'WAITING').map((f) => f.feed).sort()).toEqual(FEED_NAMES.filter((f) => f !== 'transactions').sort());
    expect(waiting).toMatchObject({ businessDate: night.businessDate, tenant: night.tenant, status: 'AWAITING_FEEDS', stage: 'awaiting-feeds' });

    const rest = FEED_NAMES.filter((f) => f !== 'transactions').map((feed) => ({ key: night.workflowId, value: json(arrivalFor(night, feed)) }));
    await publish(brokers, t.topic, rest);
    const result = await nightHandle(night).result();
    expect(result.status).toBe('COMPLETED');
    expect(result.feeds.map((f) => [f.feed, f.status]).sort()).toEqual(FEED_NAMES.map((f) => [f, 'INGESTED']).sort());

    const done = await statusWhen(triggers, night, 'the completed status', (s) => s.status === 'COMPLETED');
    for (const feed of FEED_NAMES) {
      expect(feedOf(done, feed)).toMatchObject({ state: 'INGESTED', via: 'signal', uri: arrivalFor(night, feed).uri });
    }

    await waitFor('the commit of all five', async () => (await committedOffsets(brokers, t.groupId, t.topic)).get(0) === 5n);
    await bridge.stop();

    // The next member of the group resumes after the committed arrivals: it sees only the new one.
    const seen: string[] = [];
    await startBridge(t, async (a) => {
      seen.push(a.eventId ?? '?');
    });
    await publish(brokers, t.topic, [{ value: json(arrivalFor(uniqueNight(), 'payments', 'after-restart')) }]);
    await waitFor('the record published after the restart', () => seen.length >= 1);
    expect(seen).toEqual(['after-restart']);
  });

  test('the same arrival published twice (a redelivery) signals the one night twice, and that night still completes', async () => {
    const triggers = new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) });
    const night = uniqueNight();
    const t = await kafkaTopics();
    const runIds: string[] = [];
    await startBridge(t, async (arrival) => {
      runIds.push((await triggers.reportFeedArrival(arrival)).runId);
    });

    const duplicate = json(arrivalFor(night, 'accounts'));
    const others = FEED_NAMES.filter((f) => f !== 'accounts').map((feed) => ({ value: json(arrivalFor(night, feed)) }));
    await publish(brokers, t.topic, [{ value: duplicate }, { value: duplicate }, ...others]);

    const result = await nightHandle(night).result();
    expect(result.status).toBe('COMPLETED');
    expect(result.feeds.filter((f) => f.feed === 'accounts')).toHaveLength(1);
    const { runId } = await nightHandle(night).describe();
    expect(runIds).toEqual(Array(6).fill(runId));

    const executions: string[] = [];
    for await (const execution of env.client.workflow.list({ query: `WorkflowId = '${night.workflowId}'` })) executions.push(execution.runId);
    expect(executions).toEqual([runId]);
    await waitFor('the commit of all six', async () => (await committedOffsets(brokers, t.groupId, t.topic)).get(0) === 6n);
  });

  test('an arrival for a completed night and a poison record are dead-lettered and committed; the arrival after them is delivered', async () => {
    const triggers = new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) });
    const completed = uniqueNight();
    for (const feed of FEED_NAMES) await triggers.reportFeedArrival(arrivalFor(completed, feed));
    expect((await nightHandle(completed).result()).status).toBe('COMPLETED');
    const completedRun = (await nightHandle(completed).describe()).runId;

    const fresh = uniqueNight();
    const t = await kafkaTopics();
    await publish(brokers, t.topic, [
      { key: 'late', value: json(arrivalFor(completed, 'fx_rates', 'late-correction')), headers: { 'x-sender': 'treasury' } },
      { key: 'poison', value: '{"feed": "transactions", "businessDate": ' },
      { key: 'fresh', value: json(arrivalFor(fresh, 'customers')) },
    ]);
    await startBridge(t, deliverTo(triggers));

    const status = await statusWhen(triggers, fresh, 'the arrival after the dead letters', (s) => feedOf(s, 'customers')?.state === 'ARRIVED');
    expect(feedOf(status, 'customers')).toMatchObject({ via: 'signal', uri: arrivalFor(fresh, 'customers').uri });

    const letters = await readTopic(brokers, t.dlqTopic, 2);
    const byKey = new Map(letters.map((r) => [r.key?.toString(), r]));
    expect([...byKey.keys()].sort()).toEqual(['late', 'poison']);
    const late = byKey.get('late')!;
    expect(header(late, DLQ_HEADERS.reason)).toBe(`delivery refused: the night ${completed.tenant} ${completed.businessDate} already completed; a feed cannot join it`);
    expect(header(late, DLQ_HEADERS.sourceOffset)).toBe('0');
    expect(header(late, 'x-sender')).toBe('treasury');
    expect(JSON.parse(late.value.toString())).toEqual(arrivalFor(completed, 'fx_rates', 'late-correction'));
    expect(header(byKey.get('poison')!, DLQ_HEADERS.reason)).toBe('the value is not valid JSON');
    expect(header(byKey.get('poison')!, DLQ_HEADERS.sourceOffset)).toBe('1');
    await waitFor('the commit of all three', async () => (await committedOffsets(brokers, t.groupId, t.topic)).get(0) === 3n);

    // The refusal changed nothing: the completed night keeps its one run.
    const after = await nightHandle(completed).describe();
    expect({ status: after.status.name, runId: after.runId }).toEqual({ status: 'COMPLETED', runId: completedRun });
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP → Temporal
// ---------------------------------------------------------------------------------------------

describe('HTTP → Temporal', () => {
  test('POST start starts the night (202) and a second POST joins it; a feed POST is signalled and GET shows it; GET of an unknown night is 404', async () => {
    const url = await startHttp(new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) }));
    const night = uniqueNight();

    const started = await call<Started>(url, 'POST', nightPath(night));
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ workflowId: night.workflowId, runId: expect.any(String), started: true });
    expect(started.headers.get('location')).toBe(nightPath(night));
    const described = await nightHandle(night).describe();
    expect({ runId: described.runId, status: described.status.name, taskQueue: described.taskQueue }).toEqual({ runId: started.body.runId, status: 'RUNNING', taskQueue });

    const joined = await call<Started>(url, 'POST', nightPath(night), {});
    expect(joined.status).toBe(202);
    expect(joined.body).toEqual({ workflowId: night.workflowId, runId: started.body.runId, started: false });

    const uri = arrivalFor(night, 'payments').uri;
    const reported = await call(url, 'POST', feedPath(night, 'payments'), { uri, eventId: 'pay-1' });
    expect(reported.status).toBe(202);
    expect(reported.body).toEqual({ workflowId: night.workflowId, runId: started.body.runId });

    const status = await statusOverHttp(url, night, 'payments to arrive', (s) => feedOf(s, 'payments')?.state === 'ARRIVED');
    expect(feedOf(status, 'payments')).toMatchObject({ via: 'signal', uri });
    expect(status).toMatchObject({ businessDate: night.businessDate, tenant: night.tenant, status: 'AWAITING_FEEDS' });

    const unknown = uniqueNight();
    const missing = await call<ApiErrorBody>(url, 'GET', nightPath(unknown));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NIGHT_NOT_FOUND');
    await expect(nightHandle(unknown).describe()).rejects.toThrow();
  });

  test('two concurrent POST starts of a new night start it once: one answers started: true, the other joins (started: false)', async () => {
    const url = await startHttp(new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) }));
    const night = uniqueNight();

    const answers = await Promise.all([call<Started>(url, 'POST', nightPath(night)), call<Started>(url, 'POST', nightPath(night))]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const { runId } = await nightHandle(night).describe();
    expect(answers.map((a) => a.body.runId)).toEqual([runId, runId]);
    expect(answers.map((a) => a.body.started).sort()).toEqual([false, true]);
  });

  test('after the night completes, a feed POST and a start POST are refused with 409 NIGHT_COMPLETED, and no request can force a re-run', async () => {
    const url = await startHttp(new TemporalNightTriggers(env.client, { ...testTarget(taskQueue, everyTenant(), env.namespace ?? 'default'), policy: testPolicy(everyTenant(), { window: FAR_WINDOW }) }));
    const night = uniqueNight();

    // The first feed starts the night (signal-with-start); the five complete it.
    for (const feed of FEED_NAMES) {
      const answer = await call(url, 'POST', feedPath(night, feed), { uri: arrivalFor(night, feed).uri });
      expect(answer.status).toBe(202);
    }
    expect((await nightHandle(night).result()).status).toBe('COMPLETED');
    const { runId } = await nightHandle(night).describe();
    const done = await call<PipelineStatus>(url, 'GET', nightPath(night));
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('COMPLETED');

    const lateFeed = await call<ApiErrorBody>(url, 'POST', feedPath(night, 'transactions'), { uri: 's3://landing/corrected/transactions.csv' });
    expect(lateFeed.status).toBe(409);
    expect(lateFeed.body.error.code).toBe('NIGHT_COMPLETED');
    expect(lateFeed.body.error.message).toContain(`${night.tenant} ${night.businessDate} already completed`);

    const restart = await call<ApiErrorBody>(url, 'POST', nightPath(night));
    expect(restart.status).toBe(409);
    expect(restart.body.error.code).toBe('NIGHT_COMPLETED');

    // `force` exists only on the triggers (the CLI's start --force): the body schema refuses it,
    // and the query string is not read.
    const forcedBody = await call<ApiErrorBody>(url, 'POST', nightPath(night), { force: true });
    expect(forcedBody.status).toBe(400);
    expect(forcedBody.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: '(root)', message: 'unexpected field(s) force' }] });
    const forcedQuery = await call<ApiErrorBody>(url, 'POST', `${nightPath(night)}?force=true`);
    expect(forcedQuery.status).toBe(409);
    expect(forcedQuery.body.error.code).toBe('NIGHT_COMPLETED');

    const after = await nightHandle(night).describe();
    expect({ status: after.status.name, runId: after.runId }).toEqual({ status: 'COMPLETED', runId });
  });
});

// ---------------------------------------------------------------------------------------------
// serveTriggers
// ---------------------------------------------------------------------------------------------

describe('serveTriggers', () => {
  test('serves both doors from the configuration, and stop() closes the HTTP API and leaves the Kafka group', async () => {
    // The configuration refuses port 0, so the test picks a free port itself.
    expect(() => loadConfig({ NIGHTJAR_HTTP_PORT: '0' }, REPO_ROOT)).toThrow(/NIGHTJAR_HTTP_PORT/);
    const port = await freePort();
    const t = await kafkaTopics();
    // One deployment serves one tenant: both doors' nights are that tenant's.
    const byHttp = uniqueNight();
    const byKafka = uniqueNight(byHttp);
    const config = loadConfig(
      {
        NIGHTJAR_TENANT: byHttp.tenant,
        NIGHTJAR_BUSINESS_DATE_FUTURE_DAYS: String(FAR_WINDOW.futureDays),
        NIGHTJAR_HTTP_TOKENS: TOKEN,
        NIGHTJAR_HTTP_PORT: String(port),
        NIGHTJAR_KAFKA_BROKERS: brokers.join(','),
        NIGHTJAR_KAFKA_TOPIC: t.topic,
        NIGHTJAR_KAFKA_DLQ_TOPIC: t.dlqTopic,
        NIGHTJAR_KAFKA_GROUP: t.groupId,
        NIGHTJAR_TASK_QUEUE: taskQueue,
      },
      REPO_ROOT,
    );
    const { logger, lines } = memoryLogger();
    const running = await serveTriggers(config, env.client, logger);
    let stopped = false;
    openDoors.push(async () => {
      if (!stopped) await running.stop();
    });
    const url = `http://127.0.0.1:${port}`;
    expect(running).toMatchObject({ httpUrl: url, kafkaTopic: t.topic });

    // HTTP door.
    const started = await call<Started>(url, 'POST', nightPath(byHttp));
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ workflowId: byHttp.workflowId, started: true });
    expect((await nightHandle(byHttp).describe()).taskQueue).toBe(taskQueue);

    // Kafka door, read back through the HTTP door.
    const arrival = arrivalFor(byKafka, 'fx_rates');
    await publish(brokers, t.topic, [{ value: json(arrival) }]);
    const status = await statusOverHttp(url, byKafka, 'the Kafka arrival', (s) => feedOf(s, 'fx_rates')?.state === 'ARRIVED');
    expect(feedOf(status, 'fx_rates')).toMatchObject({ via: 'signal', uri: arrival.uri });
    await waitFor('the commit of the arrival', async () => (await committedOffsets(brokers, t.groupId, t.topic)).get(0) === 1n);
    expect(lines().map((l) => l.msg)).toEqual(expect.arrayContaining(['HTTP trigger API listening', 'Kafka feed-arrival bridge consuming', 'feed arrival delivered']));

    await running.stop();
    stopped = true;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(await groupState(brokers, t.groupId)).toEqual({ state: 'Empty', members: 0 });
    expect(lines().map((l) => l.msg)).toContain('kafka bridge stopped');
  });
});
