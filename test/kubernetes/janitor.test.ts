import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createJanitorActivities } from '../../src/activities/janitor';
import { FakeKubeApiServer } from '../../src/spark/kubernetes/fake-api';
import type { StoredObject } from '../../src/spark/kubernetes/fake-api/kube-object';
import type { SweptObject, SweepReport, WorkflowState } from '../../src/spark/kubernetes/janitor';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { Annotation, attemptLabels, LabelKey, MANAGED_BY } from '../../src/spark/kubernetes/labels';
import { ensureJanitorSchedule, JANITOR_SCHEDULE_ID, janitorSchedule } from '../../src/worker/janitor-schedule';
import { workflowStateOf } from '../../src/worker/worker';
import { sparkJanitor } from '../../src/workflows/janitor';
import { sparkJob } from '../../src/workflows/spark-job';
import { createDevServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { leftovers, NAMESPACE, sparkJobInput, TEST_SETTINGS } from './harness';

jest.setTimeout(120_000);

const HOUR = 60 * 60_000;
const MIN_AGE_MS = 10 * 60_000;

/** The plural the fake API server stores each kind under. */
const PLURAL = {
  SparkApplication: 'sparkapplications',
  Pod: 'pods',
  Service: 'services',
  ConfigMap: 'configmaps',
  PersistentVolumeClaim: 'persistentvolumeclaims',
} as const;
type Kind = keyof typeof PLURAL;

/** What each kind needs beside its metadata to be stored. */
const BODY: Record<Kind, Record<string, unknown>> = {
  SparkApplication: { spec: { type: 'Python', mode: 'cluster' } },
  Pod: { spec: { containers: [{ name: 'spark-kubernetes-driver', image: TEST_SETTINGS.image }] } },
  Service: { spec: { clusterIP: 'None', ports: [{ name: 'driver-rpc-port', port: 7078 }] } },
  ConfigMap: { data: { 'spec.json': '{}' } },
  PersistentVolumeClaim: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
};

/**
 * Stores an object labelled and annotated as Nightjar labels an attempt of `workflowId` (exact id
 * in the annotation, label-safe one in the label), with privileged writes that need no client.
 */
function leftover(server: FakeKubeApiServer, kind: Kind, name: string, workflowId: string, extra: { ownerOf?: StoredObject; finalizers?: string[] } = {}): StoredObject {
  const attemptId = `nj-20261123-normalize-${name}`;
  return server.store.upsert(PLURAL[kind], NAMESPACE, {
    metadata: {
      name,
      labels: attemptLabels({ workflowId, businessDate: '2026-11-23', job: 'normalize', attemptId, attempt: 1 }),
      annotations: { [Annotation.workflowId]: workflowId, [Annotation.attemptId]: attemptId },
      ...(extra.ownerOf
        ? {
            ownerReferences: [
              {
                apiVersion: extra.ownerOf.apiVersion,
                kind: extra.ownerOf.kind,
                name: extra.ownerOf.metadata.name,
                uid: extra.ownerOf.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
    },
    ...BODY[kind],
  });
}

/** Objects that are not Nightjar's: no `app.kubernetes.io/managed-by=nightjar`, whatever else they carry. */
function foreignObjects(server: FakeKubeApiServer, lookalikeOf: string): void {
  server.store.upsert('pods', NAMESPACE, {
    metadata: { name: 'payments-api-7c9f', labels: { app: 'payments-api', [LabelKey.workflowId]: lookalikeOf } },
    ...BODY.Pod,
  });
  server.store.upsert('configmaps', NAMESPACE, { metadata: { name: 'kube-root-ca.crt' }, ...BODY.ConfigMap });
  server.store.upsert('services', NAMESPACE, {
    metadata: { name: 'other-tool-svc', labels: { [LabelKey.managedBy]: 'helm' }, annotations: { [Annotation.workflowId]: lookalikeOf } },
    ...BODY.Service,
  });
}
const FOREIGN = ['pods/payments-api-7c9f', 'configmaps/kube-root-ca.crt', 'services/other-tool-svc'];

const refs = (objects: readonly SweptObject[]) => objects.map((o) => `${o.kind}/${o.name}`).sort();
const reasons = (objects: readonly SweptObject[]) => Object.fromEntries(objects.map((o) => [`${o.kind}/${o.name}`, o.reason]));
const deletes = (server: FakeKubeApiServer) => server.requests().filter((r) => r.verb === 'delete');

// ---- sweepLeftovers through the platform, against the fake API server ------------------------

describe('platform.sweep on the fake API server', () => {
  interface SweepCluster {
    readonly server: FakeKubeApiServer;
    readonly platform: KubernetesSparkPlatform;
    /** The server's clock: objects are created at this time. */
    readonly clock: { now: number };
  }
  const started: SweepCluster[] = [];
  afterEach(async () => {
    for (const c of started.splice(0)) {
      await c.platform.close();
      await c.server.stop();
    }
  });

  /** A fake API server whose clock the test sets, and the platform on it. No simulator: nothing should act on these objects but the sweep. */
  async function cluster(): Promise<SweepCluster> {
    const clock = { now: Date.parse('2026-11-24T02:00:00Z') };
    const server = new FakeKubeApiServer({ namespace: NAMESPACE, now: () => new Date(clock.now) });
    await server.start();
    const platform = new KubernetesSparkPlatform({ kubeConfig: server.kubeConfig(), settings: TEST_SETTINGS });
    const c = { server, platform, clock };
    started.push(c);
    return c;
  }

  /** A workflowState answering from a table (UNKNOWN otherwise) and remembering what it was asked. */
  function temporalSays(table: Record<string, WorkflowState>) {
    const asked: string[] = [];
    const workflowState = async (workflowId: string): Promise<WorkflowState> => {
      asked.push(workflowId);
      return table[workflowId] ?? 'UNKNOWN';
    };
    return { asked, workflowState };
  }

  const CLOSED = 'nightjar-daily-2026-11-22';
  const RUNNING = 'nightjar-daily-2026-11-23';
  const UNKNOWN = 'nightjar-daily-2026-11-21';
  // Longer than a label value holds: the label is shortened and hashed, the annotation keeps it whole.
  const LONG_CLOSED = `nightjar-daily-${'bank-of-somewhere-tenant-'.repeat(3)}2026-11-22`;

  test('removes every kind of leftover of closed and unknown workflows, keeps running and young ones, never touches foreign objects', async () => {
    const { server, platform, clock } = await cluster();
    const app = leftover(server, 'SparkApplication', 'closed-app', CLOSED);
    leftover(server, 'Pod', 'closed-app-driver', CLOSED, { ownerOf: app });
    leftover(server, 'Service', 'closed-app-driver-svc', CLOSED);
    leftover(server, 'ConfigMap', 'closed-app-spec', CLOSED);
    leftover(server, 'PersistentVolumeClaim', 'closed-app-pvc', CLOSED);
    leftover(server, 'Pod', 'long-id-driver', LONG_CLOSED);
    leftover(server, 'ConfigMap', 'unknown-spec', UNKNOWN);
    leftover(server, 'PersistentVolumeClaim', 'unknown-pvc', UNKNOWN);
    const runningApp = leftover(server, 'SparkApplication', 'running-app', RUNNING);
    leftover(server, 'Pod', 'running-app-driver', RUNNING, { ownerOf: runningApp });
    server.store.upsert('services', NAMESPACE, { metadata: { name: 'no-workflow-svc', labels: { [LabelKey.managedBy]: MANAGED_BY } }, ...BODY.Service });
    foreignObjects(server, CLOSED);
    clock.now += HOUR;
    leftover(server, 'SparkApplication', 'young-app', CLOSED);
    leftover(server, 'ConfigMap', 'young-spec', UNKNOWN);

    const { asked, workflowState } = temporalSays({ [CLOSED]: 'CLOSED', [LONG_CLOSED]: 'CLOSED', [RUNNING]: 'RUNNING' });
    const report = await platform.sweep(workflowState, { now: clock.now, minAgeMs: MIN_AGE_MS });
    await server.store.idle();

    expect(report).toMatchObject({ namespace: NAMESPACE, examined: 13, dryRun: false, failed: [] });
    expect(reasons(report.removed)).toEqual({
      'SparkApplication/closed-app': 'its workflow is closed',
      'Pod/closed-app-driver': 'its workflow is closed',
      'Service/closed-app-driver-svc': 'its workflow is closed',
      'ConfigMap/closed-app-spec': 'its workflow is closed',
      'PersistentVolumeClaim/closed-app-pvc': 'its workflow is closed',
      'Pod/long-id-driver': 'its workflow is closed',
      'ConfigMap/unknown-spec': 'its workflow is unknown to Temporal',
      'PersistentVolumeClaim/unknown-pvc': 'its workflow is unknown to Temporal',
      'Service/no-workflow-svc': 'no workflow recorded',
    });
    expect(reasons(report.kept)).toEqual({
      'SparkApplication/running-app': 'its workflow is running',
      'Pod/running-app-driver': 'its workflow is running',
      'SparkApplication/young-app': 'younger than 600 s',
      'ConfigMap/young-spec': 'younger than 600 s',
    });
    expect(report.removed.find((o) => o.name === 'long-id-driver')?.workflowId).toBe(LONG_CLOSED);

    // Temporal is asked once per workflow, by its exact id.
    expect([...asked].sort()).toEqual([CLOSED, LONG_CLOSED, RUNNING, UNKNOWN].sort());

    expect(leftovers(server).sort()).toEqual(
      [...FOREIGN, 'sparkapplications/running-app', 'pods/running-app-driver', 'sparkapplications/young-app', 'configmaps/young-spec'].sort(),
    );

    // SparkApplications go first and in the foreground (their pods with them); the rest in the background.
    const sent = deletes(server);
    expect(sent.map((r) => `${r.resource}/${r.name}`).sort()).toEqual(
      [
        'sparkapplications/closed-app',
        'pods/closed-app-driver',
        'services/closed-app-driver-svc',
        'configmaps/closed-app-spec',
        'persistentvolumeclaims/closed-app-pvc',
        'pods/long-id-driver',
        'configmaps/unknown-spec',
        'persistentvolumeclaims/unknown-pvc',
        'services/no-workflow-svc',
      ].sort(),
    );
    expect(sent[0]).toMatchObject({ resource: 'sparkapplications', name: 'closed-app', query: { propagationPolicy: 'Foreground' } });
    for (const request of sent.slice(1)) {
      expect(request.resource).not.toBe('sparkapplications');
      expect(request.query.propagationPolicy).toBe('Background');
    }
  });

  test('a dry run reports what would go and deletes nothing', async () => {
    const { server, platform, clock } = await cluster();
    leftover(server, 'SparkApplication', 'closed-app', CLOSED);
    leftover(server, 'ConfigMap', 'closed-app-spec', CLOSED);
    leftover(server, 'Pod', 'unknown-driver', UNKNOWN);
    leftover(server, 'Pod', 'running-driver', RUNNING);
    foreignObjects(server, CLOSED);
    const before = leftovers(server).sort();
    clock.now += HOUR;

    const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED', [RUNNING]: 'RUNNING' });
    const report = await platform.sweep(workflowState, { now: clock.now, minAgeMs: MIN_AGE_MS, dryRun: true });
    await server.store.idle();

    expect(report).toMatchObject({ examined: 4, dryRun: true, failed: [] });
    expect(refs(report.removed)).toEqual(['ConfigMap/closed-app-spec', 'Pod/unknown-driver', 'SparkApplication/closed-app']);
    expect(refs(report.kept)).toEqual(['Pod/running-driver']);
    expect(deletes(server)).toEqual([]);
    expect(leftovers(server).sort()).toEqual(before);
  });

  test('a delete answered 500 is reported as failed; the rest still goes, and the next sweep finishes the job', async () => {
    const { server, platform, clock } = await cluster();
    leftover(server, 'SparkApplication', 'closed-app', CLOSED);
    leftover(server, 'Service', 'closed-app-driver-svc', CLOSED);
    leftover(server, 'ConfigMap', 'closed-app-spec', CLOSED);
    leftover(server, 'PersistentVolumeClaim', 'unknown-pvc', UNKNOWN);
    clock.now += HOUR;
    server.faults.next({ status: 500, verb: 'delete', resource: 'services', times: 1 });

    const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED' });
    const report = await platform.sweep(workflowState, { now: clock.now, minAgeMs: MIN_AGE_MS });
    await server.store.idle();

    expect(report.failed).toEqual([
      expect.objectContaining({ kind: 'Service', name: 'closed-app-driver-svc', workflowId: CLOSED, reason: 'its workflow is closed', error: expect.stringMatching(/HTTP 500/) }),
    ]);
    expect(refs(report.removed)).toEqual(['ConfigMap/closed-app-spec', 'PersistentVolumeClaim/unknown-pvc', 'SparkApplication/closed-app']);
    expect(report.kept).toEqual([]);
    expect(leftovers(server)).toEqual(['services/closed-app-driver-svc']);

    const next = await platform.sweep(workflowState, { now: clock.now, minAgeMs: MIN_AGE_MS });
    expect(next.failed).toEqual([]);
    expect(refs(next.removed)).toEqual(['Service/closed-app-driver-svc']);
    expect(leftovers(server)).toEqual([]);
  });

  test('an object already being deleted (held by a finalizer) is kept and not deleted again', async () => {
    const { server, platform, clock } = await cluster();
    leftover(server, 'PersistentVolumeClaim', 'held-pvc', CLOSED, { finalizers: ['kubernetes.io/pvc-protection'] });
    server.store.delete('persistentvolumeclaims', NAMESPACE, 'held-pvc');
    expect(server.store.get('persistentvolumeclaims', NAMESPACE, 'held-pvc')?.metadata.deletionTimestamp).toBeDefined();
    clock.now += HOUR;

    const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED' });
    const report = await platform.sweep(workflowState, { now: clock.now, minAgeMs: MIN_AGE_MS });

    expect(report.removed).toEqual([]);
    expect(reasons(report.kept)).toEqual({ 'PersistentVolumeClaim/held-pvc': 'already being deleted' });
    expect(deletes(server)).toEqual([]);
    expect(leftovers(server)).toEqual(['persistentvolumeclaims/held-pvc']);
  });
});

// ---- the sparkJanitor workflow and its schedule, on the dev server ---------------------------

describe('on the Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('sparkJanitor removes what closed and never-started workflows left and keeps what a running workflow owns', async () => {
    // Objects are created an hour in the past unless the offset is cleared.
    const clock = { offsetMs: HOUR };
    const server = new FakeKubeApiServer({ namespace: NAMESPACE, now: () => new Date(Date.now() - clock.offsetMs) });
    await server.start();
    const platform = new KubernetesSparkPlatform({ kubeConfig: server.kubeConfig(), settings: TEST_SETTINGS });
    const taskQueue = uniqueId('janitor');
    // A sparkJob on a queue no worker polls: it stays RUNNING until terminated below.
    const running = await env.client.workflow.start(sparkJob, {
      taskQueue: uniqueId('nobody-polls'),
      workflowId: uniqueId('nightjar-daily-2026-11-23-normalize'),
      args: [sparkJobInput()],
    });
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createJanitorActivities({
          platform,
          workflowState: (id) => workflowStateOf(env.client, id),
          logger: pino({ enabled: false }),
        }),
      });
      await worker.runUntil(async () => {
        // A janitor run on the still empty cluster: once it completes, its id is a closed workflow's.
        const closedId = uniqueId('nightjar-spark-janitor-run');
        const first = await env.client.workflow.execute(sparkJanitor, { taskQueue, workflowId: closedId, args: [{ minAgeSeconds: 600 }] });
        expect(first).toMatchObject({ namespace: NAMESPACE, examined: 0, removed: [], failed: [] });
        const neverStarted = uniqueId('nightjar-daily-never-started');

        expect(await workflowStateOf(env.client, running.workflowId)).toBe('RUNNING');
        expect(await workflowStateOf(env.client, closedId)).toBe('CLOSED');
        expect(await workflowStateOf(env.client, neverStarted)).toBe('UNKNOWN');

        const closedApp = leftover(server, 'SparkApplication', 'closed-app', closedId);
        leftover(server, 'Pod', 'closed-app-driver', closedId, { ownerOf: closedApp });
        leftover(server, 'ConfigMap', 'closed-app-spec', closedId);
        leftover(server, 'Service', 'unknown-driver-svc', neverStarted);
        leftover(server, 'PersistentVolumeClaim', 'unknown-pvc', neverStarted);
        const runningApp = leftover(server, 'SparkApplication', 'running-app', running.workflowId);
        leftover(server, 'Pod', 'running-app-driver', running.workflowId, { ownerOf: runningApp });
        foreignObjects(server, closedId);
        clock.offsetMs = 0;
        leftover(server, 'ConfigMap', 'young-spec', neverStarted);

        const report: SweepReport = await env.client.workflow.execute(sparkJanitor, {
          taskQueue,
          workflowId: uniqueId('nightjar-spark-janitor-run'),
          args: [{ minAgeSeconds: 600 }],
        });
        await server.store.idle();

        expect(report).toMatchObject({ namespace: NAMESPACE, examined: 8, dryRun: false, failed: [] });
        expect(reasons(report.removed)).toEqual({
          'SparkApplication/closed-app': 'its workflow is closed',
          'Pod/closed-app-driver': 'its workflow is closed',
          'ConfigMap/closed-app-spec': 'its workflow is closed',
          'Service/unknown-driver-svc': 'its workflow is unknown to Temporal',
          'PersistentVolumeClaim/unknown-pvc': 'its workflow is unknown to Temporal',
        });
        expect(reasons(report.kept)).toEqual({
          'SparkApplication/running-app': 'its workflow is running',
          'Pod/running-app-driver': 'its workflow is running',
          'ConfigMap/young-spec': 'younger than 600 s',
        });
        expect(leftovers(server).sort()).toEqual([...FOREIGN, 'sparkapplications/running-app', 'pods/running-app-driver', 'configmaps/young-spec'].sort());
      });
    } finally {
      await running.terminate('end of test');
      await platform.close();
      await server.stop();
    }
  });

  describe('the janitor schedule', () => {
    afterEach(async () => {
      await env.client.schedule
        .getHandle(JANITOR_SCHEDULE_ID)
        .delete()
        .catch(() => undefined);
    });

    test('ensureJanitorSchedule creates the schedule, and a second call updates it instead of failing', async () => {
      const taskQueue = uniqueId('nightjar');
      await ensureJanitorSchedule(env.client, { taskQueue, everySeconds: 3600, minAgeSeconds: 900 });
      const handle = env.client.schedule.getHandle(JANITOR_SCHEDULE_ID);
      const created = await handle.describe();
      expect(created.spec.intervals).toEqual([expect.objectContaining({ every: 3600_000 })]);
      expect(created.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sparkJanitor', taskQueue, args: [{ minAgeSeconds: 900 }] });

      await expect(ensureJanitorSchedule(env.client, { taskQueue, everySeconds: 1800, minAgeSeconds: 1200 })).resolves.toBeUndefined();
      const updated = await handle.describe();
      expect(updated.spec.intervals).toEqual([expect.objectContaining({ every: 1800_000 })]);
      expect(updated.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
      expect(updated.policies.catchupWindow).toBe(1800_000);
      expect(updated.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'sparkJanitor',
        taskQueue,
        workflowId: `${JANITOR_SCHEDULE_ID}-run`,
        args: [{ minAgeSeconds: 1200 }],
      });
      expect(updated.state.paused).toBe(false);
    });
  });
});

// ---- the schedule's shape, pure --------------------------------------------------------------

describe('janitorSchedule', () => {
  test('one sweep every interval on the given queue, one at a time, missed ticks not caught up beyond one interval', () => {
    expect(janitorSchedule({ taskQueue: 'nightjar', everySeconds: 900, minAgeSeconds: 600 })).toEqual({
      scheduleId: 'nightjar-spark-janitor',
      spec: { intervals: [{ every: 900_000 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'sparkJanitor',
        taskQueue: 'nightjar',
        args: [{ minAgeSeconds: 600 }],
        workflowId: 'nightjar-spark-janitor-run',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 900_000 },
      state: { note: expect.stringMatching(/closed or unknown/) },
    });
  });

  test('the action never asks for a dry run: the scheduled janitor deletes', () => {
    const schedule = janitorSchedule({ taskQueue: 'q', everySeconds: 60, minAgeSeconds: 30 });
    expect(schedule.action.args).toEqual([{ minAgeSeconds: 30 }]);
  });
});
