import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createJanitorActivities } from '../../src/activities/janitor';
import { KubeWriter, type StoredObject } from '../../local-cluster';
import type { SweptObject, SweepReport, WorkflowState } from '../../src/spark/kubernetes/janitor';
import { KubernetesSparkPlatform } from '../../src/spark/kubernetes/kubernetes-platform';
import { Annotation, attemptLabels, LabelKey, MANAGED_BY } from '../../src/spark/kubernetes/labels';
import { ensureJanitorSchedule, JANITOR_SCHEDULE_ID, janitorSchedule } from '../../src/worker/janitor-schedule';
import { workflowStateOf } from '../../src/worker/worker';
import { sparkJanitor } from '../../src/workflows/janitor';
import { sparkJob } from '../../src/workflows/spark-job';
import { createDevServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { FaultProxy } from '../support/fault-proxy';
import { createTestNamespace, deleteTestNamespace, eventually, planeKubeConfig, planeKubeConfigPath } from '../support/local-plane';
import { describeOnPlane, sparkJobInput, TEST_SETTINGS } from './harness';

jest.setTimeout(120_000);

const HOUR = 60 * 60_000;
const MIN_AGE_MS = 10 * 60_000;

/** The plural each kind is served under. */
const PLURAL = {
  SparkApplication: 'sparkapplications',
  Pod: 'pods',
  Service: 'services',
  ConfigMap: 'configmaps',
  PersistentVolumeClaim: 'persistentvolumeclaims',
} as const;
type Kind = keyof typeof PLURAL;

/** What each kind needs beside its metadata to be accepted by the API server (the SparkApplication CRD's required fields included). */
const BODY: Record<Kind, Record<string, unknown>> = {
  SparkApplication: {
    spec: { type: 'Python', mode: 'cluster', sparkVersion: '4.0.1', mainApplicationFile: 'local:///opt/nightjar/spark/jobs/normalize.py', driver: { cores: 1, memory: '512m' }, executor: { cores: 1, memory: '512m', instances: 1 } },
  },
  Pod: { spec: { containers: [{ name: 'spark-kubernetes-driver', image: TEST_SETTINGS.image }] } },
  Service: { spec: { clusterIP: 'None', ports: [{ name: 'driver-rpc-port', port: 7078 }] } },
  ConfigMap: { data: { 'spec.json': '{}' } },
  PersistentVolumeClaim: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
};

/** A finalizer nobody removes but the test: holds an object in "being deleted". */
const HOLD = 'nightjar.io/test-hold';

/**
 * Creates, as admin, an object labelled and annotated as Nightjar labels an attempt of
 * `workflowId` (exact id in the annotation, label-safe one in the label). No operator runs in
 * these namespaces: nothing acts on these objects but the sweep (and, for pods, the scheduler
 * and kwok).
 */
function leftover(api: KubeWriter, kind: Kind, name: string, workflowId: string, extra: { ownerOf?: StoredObject; finalizers?: string[] } = {}): Promise<StoredObject> {
  const attemptId = `nj-20261123-normalize-${name}`;
  return api.create(PLURAL[kind], {
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

/**
 * Objects that are not Nightjar's: no `app.kubernetes.io/managed-by=nightjar`, whatever else
 * they carry; and kube-root-ca.crt, which the controller-manager puts in every namespace.
 */
async function foreignObjects(api: KubeWriter, lookalikeOf: string): Promise<void> {
  await api.create('pods', { metadata: { name: 'payments-api-7c9f', labels: { app: 'payments-api', [LabelKey.workflowId]: lookalikeOf } }, ...BODY.Pod });
  await api.create('services', {
    metadata: { name: 'other-tool-svc', labels: { [LabelKey.managedBy]: 'helm' }, annotations: { [Annotation.workflowId]: lookalikeOf } },
    ...BODY.Service,
  });
}
const FOREIGN = ['pods/payments-api-7c9f', 'configmaps/kube-root-ca.crt', 'services/other-tool-svc'];

const refs = (objects: readonly SweptObject[]) => objects.map((o) => `${o.kind}/${o.name}`).sort();
const reasons = (objects: readonly SweptObject[]) => Object.fromEntries(objects.map((o) => [`${o.kind}/${o.name}`, o.reason]));

interface SweepCluster {
  readonly namespace: string;
  readonly api: KubeWriter;
  readonly proxy: FaultProxy;
  readonly platform: KubernetesSparkPlatform;
  /** Every object in the namespace (events aside), once what is being deleted is gone. */
  objects(): Promise<string[]>;
  /** The platform's DELETE requests, as the proxy saw them. */
  deletes(): ReturnType<FaultProxy['requests']>;
}

/** Every object of the managed kinds in the namespace, foreign ones included; those still being deleted count. */
async function objectsIn(admin: KubeConfig, namespace: string): Promise<{ names: string[]; deleting: number }> {
  const core = admin.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  type Item = { metadata?: { name?: string; deletionTimestamp?: unknown } };
  const apps = ((await custom.listNamespacedCustomObject({ group: 'sparkoperator.k8s.io', version: 'v1beta2', plural: 'sparkapplications', namespace })) as { items?: Item[] }).items ?? [];
  const lists: [string, Item[]][] = [
    ['sparkapplications', apps],
    ['pods', (await core.listNamespacedPod({ namespace })).items],
    ['services', (await core.listNamespacedService({ namespace })).items],
    ['configmaps', (await core.listNamespacedConfigMap({ namespace })).items],
    ['persistentvolumeclaims', (await core.listNamespacedPersistentVolumeClaim({ namespace })).items],
  ];
  const all = lists.flatMap(([plural, items]) => items.map((o) => ({ name: `${plural}/${o.metadata?.name ?? '?'}`, deleting: o.metadata?.deletionTimestamp !== undefined })));
  return { names: all.map((o) => o.name), deleting: all.filter((o) => o.deleting).length };
}

/**
 * A namespace of its own on the real plane and the platform behind the fault proxy; no operator
 * stand-in. Its ConfigMap kube-root-ca.crt is awaited: it is one of the foreign objects.
 */
function useSweepClusters(): () => Promise<SweepCluster> {
  const started: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of started.splice(0)) await stop();
  });
  return async () => {
    const admin = planeKubeConfig();
    const namespace = await createTestNamespace(admin, 'nj-janitor');
    const api = new KubeWriter(admin, namespace);
    const proxy = new FaultProxy(admin);
    const closing: (() => Promise<void>)[] = [];
    started.push(async () => {
      try {
        for (const close of closing) await close();
      } finally {
        await proxy.stop();
        await deleteTestNamespace(admin, namespace);
      }
    });
    await proxy.start();
    const platform = new KubernetesSparkPlatform({ kubeConfig: proxy.kubeConfig(), settings: { ...TEST_SETTINGS, namespace } });
    closing.push(() => platform.close());
    await eventually('kube-root-ca.crt in the new namespace', async () => ((await api.get('configmaps', 'kube-root-ca.crt')) === undefined ? undefined : true));
    return {
      namespace,
      api,
      proxy,
      platform,
      async objects() {
        // Deleted pods wait for kwok, claims for the controller-manager: what was deleted goes soon.
        await eventually('deleted objects to go', async () => ((await objectsIn(admin, namespace)).deleting === 0 ? true : undefined)).catch(() => undefined);
        return (await objectsIn(admin, namespace)).names.sort();
      },
      deletes: () => proxy.requests().filter((r) => r.verb === 'delete'),
    };
  };
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

/**
 * Objects get their creationTimestamp (whole seconds) from the server. Old ones are made first;
 * the returned `boundary` lies strictly between their creation and that of anything made after
 * `young()` resolves, so `minAgeMs = now - boundary` keeps exactly the young ones.
 */
async function ageBoundary(): Promise<{ boundary: number; young: () => Promise<void> }> {
  await sleep(1_500);
  const boundary = Date.now();
  return { boundary, young: () => sleep(1_100) };
}

// ---- sweepLeftovers through the platform, against the real API server -----------------------

describeOnPlane('platform.sweep on the real API server', () => {
  const cluster = useSweepClusters();

  const CLOSED = 'nightjar-daily-2026-11-22';
  const RUNNING = 'nightjar-daily-2026-11-23';
  const UNKNOWN = 'nightjar-daily-2026-11-21';
  // Longer than a label value holds: the label is shortened and hashed, the annotation keeps it whole.
  const LONG_CLOSED = `nightjar-daily-${'bank-of-somewhere-tenant-'.repeat(3)}2026-11-22`;

  test('removes every kind of leftover of closed and unknown workflows, keeps running and young ones, never touches foreign objects', async () => {
    const { namespace, api, platform, objects, deletes } = await cluster();
    const app = await leftover(api, 'SparkApplication', 'closed-app', CLOSED);
    await leftover(api, 'Pod', 'closed-app-driver', CLOSED, { ownerOf: app });
    await leftover(api, 'Service', 'closed-app-driver-svc', CLOSED);
    await leftover(api, 'ConfigMap', 'closed-app-spec', CLOSED);
    await leftover(api, 'PersistentVolumeClaim', 'closed-app-pvc', CLOSED);
    await leftover(api, 'Pod', 'long-id-driver', LONG_CLOSED);
    await leftover(api, 'ConfigMap', 'unknown-spec', UNKNOWN);
    await leftover(api, 'PersistentVolumeClaim', 'unknown-pvc', UNKNOWN);
    const runningApp = await leftover(api, 'SparkApplication', 'running-app', RUNNING);
    await leftover(api, 'Pod', 'running-app-driver', RUNNING, { ownerOf: runningApp });
    await api.create('services', { metadata: { name: 'no-workflow-svc', labels: { [LabelKey.managedBy]: MANAGED_BY } }, ...BODY.Service });
    await foreignObjects(api, CLOSED);
    const { boundary, young } = await ageBoundary();
    await young();
    await leftover(api, 'SparkApplication', 'young-app', CLOSED);
    await leftover(api, 'ConfigMap', 'young-spec', UNKNOWN);

    const { asked, workflowState } = temporalSays({ [CLOSED]: 'CLOSED', [LONG_CLOSED]: 'CLOSED', [RUNNING]: 'RUNNING' });
    const now = Date.now();
    const report = await platform.sweep(workflowState, { now, minAgeMs: now - boundary });

    expect(report).toMatchObject({ namespace, examined: 13, dryRun: false, failed: [] });
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
      'SparkApplication/young-app': expect.stringMatching(/^younger than \d+ s$/),
      'ConfigMap/young-spec': expect.stringMatching(/^younger than \d+ s$/),
    });
    expect(report.removed.find((o) => o.name === 'long-id-driver')?.workflowId).toBe(LONG_CLOSED);

    // Temporal is asked once per workflow, by its exact id.
    expect([...asked].sort()).toEqual([CLOSED, LONG_CLOSED, RUNNING, UNKNOWN].sort());

    // The real garbage collector and kwok finish what the deletes started.
    expect(await objects()).toEqual([...FOREIGN, 'sparkapplications/running-app', 'pods/running-app-driver', 'sparkapplications/young-app', 'configmaps/young-spec'].sort());

    // SparkApplications go first and in the foreground (their pods with them); the rest in the background.
    const sent = deletes();
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
    const { api, platform, objects, deletes } = await cluster();
    await leftover(api, 'SparkApplication', 'closed-app', CLOSED);
    await leftover(api, 'ConfigMap', 'closed-app-spec', CLOSED);
    await leftover(api, 'Pod', 'unknown-driver', UNKNOWN);
    await leftover(api, 'Pod', 'running-driver', RUNNING);
    await foreignObjects(api, CLOSED);
    const before = await objects();

    const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED', [RUNNING]: 'RUNNING' });
    const report = await platform.sweep(workflowState, { now: Date.now() + HOUR, minAgeMs: MIN_AGE_MS, dryRun: true });

    expect(report).toMatchObject({ examined: 4, dryRun: true, failed: [] });
    expect(refs(report.removed)).toEqual(['ConfigMap/closed-app-spec', 'Pod/unknown-driver', 'SparkApplication/closed-app']);
    expect(refs(report.kept)).toEqual(['Pod/running-driver']);
    expect(deletes()).toEqual([]);
    expect(await objects()).toEqual(before);
  });

  test('a delete answered 500 is reported as failed; the rest still goes, and the next sweep finishes the job', async () => {
    const { api, proxy, platform, objects } = await cluster();
    await leftover(api, 'SparkApplication', 'closed-app', CLOSED);
    await leftover(api, 'Service', 'closed-app-driver-svc', CLOSED);
    await leftover(api, 'ConfigMap', 'closed-app-spec', CLOSED);
    await leftover(api, 'PersistentVolumeClaim', 'unknown-pvc', UNKNOWN);
    proxy.faults.next({ status: 500, verb: 'delete', resource: 'services', times: 1 });

    const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED' });
    const report = await platform.sweep(workflowState, { now: Date.now() + HOUR, minAgeMs: MIN_AGE_MS });

    expect(report.failed).toEqual([
      expect.objectContaining({ kind: 'Service', name: 'closed-app-driver-svc', workflowId: CLOSED, reason: 'its workflow is closed', error: expect.stringMatching(/HTTP 500/) }),
    ]);
    expect(refs(report.removed)).toEqual(['ConfigMap/closed-app-spec', 'PersistentVolumeClaim/unknown-pvc', 'SparkApplication/closed-app']);
    expect(report.kept).toEqual([]);
    expect(await objects()).toEqual(['configmaps/kube-root-ca.crt', 'services/closed-app-driver-svc']);

    const next = await platform.sweep(workflowState, { now: Date.now() + HOUR, minAgeMs: MIN_AGE_MS });
    expect(next.failed).toEqual([]);
    expect(refs(next.removed)).toEqual(['Service/closed-app-driver-svc']);
    expect(await objects()).toEqual(['configmaps/kube-root-ca.crt']);
  });

  test('an object already being deleted (held by a finalizer) is kept and not deleted again', async () => {
    const { api, platform, deletes } = await cluster();
    await leftover(api, 'ConfigMap', 'held-spec', CLOSED, { finalizers: [HOLD] });
    const core = planeKubeConfig().makeApiClient(CoreV1Api);
    const namespace = api.namespace;
    await core.deleteNamespacedConfigMap({ name: 'held-spec', namespace });
    try {
      expect((await api.get('configmaps', 'held-spec'))?.metadata.deletionTimestamp).toBeDefined();

      const { workflowState } = temporalSays({ [CLOSED]: 'CLOSED' });
      const report = await platform.sweep(workflowState, { now: Date.now() + HOUR, minAgeMs: MIN_AGE_MS });

      expect(report.removed).toEqual([]);
      expect(reasons(report.kept)).toEqual({ 'ConfigMap/held-spec': 'already being deleted' });
      expect(deletes()).toEqual([]);
      expect(await api.get('configmaps', 'held-spec')).toBeDefined();
    } finally {
      await core.patchNamespacedConfigMap({ name: 'held-spec', namespace, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    }
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

  const onPlane = planeKubeConfigPath() === undefined ? test.skip : test;
  onPlane('sparkJanitor removes what closed and never-started workflows left and keeps what a running workflow owns (real API server)', async () => {
    const MIN_AGE_SECONDS = 8;
    const admin = planeKubeConfig();
    const namespace = await createTestNamespace(admin, 'nj-janitor-wf');
    const api = new KubeWriter(admin, namespace);
    const platform = new KubernetesSparkPlatform({ kubeConfig: admin, settings: { ...TEST_SETTINGS, namespace } });
    const taskQueue = uniqueId('janitor');
    // A sparkJob on a queue no worker polls: it stays RUNNING until terminated below.
    const running = await env.client.workflow.start(sparkJob, {
      taskQueue: uniqueId('nobody-polls'),
      workflowId: uniqueId('nightjar-daily-2026-11-23-normalize'),
      args: [sparkJobInput()],
    });
    try {
      await eventually('kube-root-ca.crt in the new namespace', async () => ((await api.get('configmaps', 'kube-root-ca.crt')) === undefined ? undefined : true));
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
        // A janitor run on the still empty namespace: once it completes, its id is a closed workflow's.
        const closedId = uniqueId('nightjar-spark-janitor-run');
        const first = await env.client.workflow.execute(sparkJanitor, { taskQueue, workflowId: closedId, args: [{ minAgeSeconds: MIN_AGE_SECONDS }] });
        expect(first).toMatchObject({ namespace, examined: 0, removed: [], failed: [] });
        const neverStarted = uniqueId('nightjar-daily-never-started');

        expect(await workflowStateOf(env.client, running.workflowId)).toBe('RUNNING');
        expect(await workflowStateOf(env.client, closedId)).toBe('CLOSED');
        expect(await workflowStateOf(env.client, neverStarted)).toBe('UNKNOWN');

        const closedApp = await leftover(api, 'SparkApplication', 'closed-app', closedId);
        await leftover(api, 'Pod', 'closed-app-driver', closedId, { ownerOf: closedApp });
        await leftover(api, 'ConfigMap', 'closed-app-spec', closedId);
        await leftover(api, 'Service', 'unknown-driver-svc', neverStarted);
        await leftover(api, 'PersistentVolumeClaim', 'unknown-pvc', neverStarted);
        const runningApp = await leftover(api, 'SparkApplication', 'running-app', running.workflowId);
        await leftover(api, 'Pod', 'running-app-driver', running.workflowId, { ownerOf: runningApp });
        await foreignObjects(api, closedId);
        // Old enough by the time the janitor runs; the young one is made just before it.
        await sleep((MIN_AGE_SECONDS + 2) * 1000);
        await leftover(api, 'ConfigMap', 'young-spec', neverStarted);

        const report: SweepReport = await env.client.workflow.execute(sparkJanitor, {
          taskQueue,
          workflowId: uniqueId('nightjar-spark-janitor-run'),
          args: [{ minAgeSeconds: MIN_AGE_SECONDS }],
        });

        expect(report).toMatchObject({ namespace, examined: 8, dryRun: false, failed: [] });
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
          'ConfigMap/young-spec': `younger than ${MIN_AGE_SECONDS} s`,
        });
        await eventually('deleted objects to go', async () => ((await objectsIn(admin, namespace)).deleting === 0 ? true : undefined)).catch(() => undefined);
        expect((await objectsIn(admin, namespace)).names.sort()).toEqual([...FOREIGN, 'sparkapplications/running-app', 'pods/running-app-driver', 'configmaps/young-spec'].sort());
      });
    } finally {
      await running.terminate('end of test');
      await platform.close();
      await deleteTestNamespace(admin, namespace);
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
