/**
 * The platform's watches across the real plane's own trouble: a kube-apiserver restart, an etcd
 * restart, and a 410 Gone answered by the real server (a watch resuming from a resourceVersion
 * long compacted away); and scripts/k8s.sh's stop/start/restart of one component, which the
 * fault matrix uses. These restart the plane's components, so they run in the reliability project
 * (serially, after every other test; jest.config.js) and only where the run owns the plane
 * (test/support/plane-control.ts).
 */
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { ResourceWatch, type ResourceWatchEvent } from '../../src/spark/kubernetes/resource-watch';
import { FaultProxy } from '../support/fault-proxy';
import { createTestNamespace, deleteTestNamespace, eventually, planeKubeConfig, planeKubeConfigPath } from '../support/local-plane';
import { changeComponent, ensurePlaneWhole, restartComponent, restartsRefused, startComponent, stopComponent, testWithRestarts } from '../support/plane-control';

jest.setTimeout(240_000);

let admin: KubeConfig;
let core: CoreV1Api;
let namespace: string;
let proxy: FaultProxy;

beforeAll(async () => {
  if (restartsRefused() !== undefined) return;
  admin = planeKubeConfig();
  core = admin.makeApiClient(CoreV1Api);
  namespace = await createTestNamespace(admin, 'plane-restarts');
  proxy = new FaultProxy(admin);
  await proxy.start();
});
afterEach(async () => {
  if (restartsRefused() === undefined) await ensurePlaneWhole();
});
afterAll(async () => {
  if (restartsRefused() !== undefined) return;
  await proxy?.stop();
  if (namespace) await deleteTestNamespace(admin, namespace);
});

/** The API server answers again (after a restart a first call may still be refused). */
async function serving(): Promise<void> {
  await eventually('the API server to answer', async () => ((await core.listNamespacedConfigMap({ namespace }).then(() => true, () => false)) ? true : undefined), 60_000, 250);
}

/** A watch of the namespace's ConfigMaps through the proxy, with every change it told. */
function watchConfigMaps(): { watch: ResourceWatch<V1ConfigMap & { metadata: { name: string } }>; events: string[] } {
  const watch = new ResourceWatch<V1ConfigMap & { metadata: { name: string } }>({
    kubeConfig: proxy.kubeConfig(),
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    labelSelector: 'nightjar.io/test-watch=true',
    name: 'configmaps',
    backoff: { initialMs: 100, maxMs: 2_000 },
  });
  const events: string[] = [];
  watch.onChange((e: ResourceWatchEvent<V1ConfigMap>) => events.push(`${e.type} ${e.object.metadata?.name}`));
  watch.start();
  return { watch, events };
}

const configMap = (name: string, value = '1') => ({ metadata: { name, labels: { 'nightjar.io/test-watch': 'true' } }, data: { value } });

/** The watch's cache equals what a fresh list says (names and resourceVersions). */
async function sameAsList(watch: ResourceWatch<V1ConfigMap & { metadata: { name: string } }>): Promise<true | undefined> {
  const listed = await core.listNamespacedConfigMap({ namespace, labelSelector: 'nightjar.io/test-watch=true' });
  const want = listed.items.map((c) => `${c.metadata?.name}@${c.metadata?.resourceVersion}`).sort();
  const have = watch.list().map((c) => `${c.metadata?.name}@${c.metadata?.resourceVersion}`).sort();
  return JSON.stringify(want) === JSON.stringify(have) ? true : undefined;
}

describe('watches across the real plane\'s restarts', () => {
  for (const component of ['kube-apiserver', 'etcd'] as const) {
    testWithRestarts(`a watch resumes after a real ${component} restart: it tells what changed meanwhile and after, and its cache equals a fresh list`, async () => {
      const { watch, events } = watchConfigMaps();
      try {
        await core.createNamespacedConfigMap({ namespace, body: configMap(`${component}-before`) });
        await eventually('the watch to see the first ConfigMap', async () => (events.includes(`ADDED ${component}-before`) ? true : undefined));
        const before = watch.stats();

        await stopComponent(component);
        try {
          if (component === 'kube-apiserver') {
            // While it is away the watch fails; it keeps trying with its backoff.
            await eventually('the watch to notice', async () => (watch.synced ? undefined : true), 60_000, 100);
          } else {
            // The API server stays up without etcd: its watch cache keeps the watches open (they
            // just hear nothing), while it reports etcd unreachable and cannot write.
            await eventually('the API server to report etcd unreachable', async () => ((await fetch(`${proxy.url}/readyz/etcd`)).status !== 200 ? true : undefined), 60_000, 250);
          }
        } finally {
          await startComponent(component);
        }
        await serving();

        await core.createNamespacedConfigMap({ namespace, body: configMap(`${component}-after`) });
        await core.deleteNamespacedConfigMap({ namespace, name: `${component}-before` });
        await eventually('the watch to tell the write and the delete after the restart', async () =>
          events.includes(`ADDED ${component}-after`) && events.includes(`DELETED ${component}-before`) ? true : undefined, 60_000, 100);
        await eventually('the cache to equal a fresh list', () => sameAsList(watch), 30_000, 200);
        await eventually('the watch to be in sync', async () => (watch.synced ? true : undefined), 30_000, 100);
        const after = watch.stats();
        if (component === 'kube-apiserver') {
          expect(after.errors).toBeGreaterThan(before.errors);
          expect(after.reconnects + after.relists).toBeGreaterThan(before.reconnects + before.relists);
        }
      } finally {
        await watch.stop();
      }
    });
  }

  testWithRestarts('a 410 Gone from the real server (resuming from a compacted resourceVersion) makes the watch list again and miss nothing', async () => {
    const { watch, events } = watchConfigMaps();
    try {
      await serving();
      await core.createNamespacedConfigMap({ namespace, body: configMap('gone-a') });
      await core.createNamespacedConfigMap({ namespace, body: configMap('gone-b') });
      await eventually('the watch to see both', async () => (events.includes('ADDED gone-a') && events.includes('ADDED gone-b') ? true : undefined));
      await eventually('the watch to be in sync', async () => (watch.synced ? true : undefined));
      const before = watch.stats();
      const watchesBefore = proxy.requests().length;

      // The next resume goes out with resourceVersion 1: the API server itself answers 410.
      expect(proxy.rewindWatches(1)).toBe(1);
      await core.deleteNamespacedConfigMap({ namespace, name: 'gone-a' });
      await core.replaceNamespacedConfigMap({ namespace, name: 'gone-b', body: configMap('gone-b', '2') });
      await core.createNamespacedConfigMap({ namespace, body: configMap('gone-c') });

      await eventually('a relist after the 410', async () => (watch.stats().relists > before.relists ? true : undefined), 30_000, 100);
      await eventually('every change told', async () =>
        events.includes('DELETED gone-a') && events.includes('MODIFIED gone-b') && events.includes('ADDED gone-c') ? true : undefined, 30_000, 100);
      await eventually('the cache to equal a fresh list', () => sameAsList(watch), 30_000, 200);
      const resumes = proxy.requests().slice(watchesBefore).filter((r) => r.verb === 'watch' && r.resource === 'configmaps');
      // The rewound resume, then a watch from the new list's resourceVersion.
      expect(resumes.length).toBeGreaterThanOrEqual(2);
      expect(watch.get('gone-b')?.data?.value).toBe('2');
    } finally {
      await watch.stop();
    }
  });
});

describe('scripts/k8s.sh stop|start|restart COMPONENT', () => {
  testWithRestarts('the scheduler and kwok restarted: a new pod is scheduled and the nodes are Ready again', async () => {
    await restartComponent('kube-scheduler');
    await restartComponent('kwok');
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'after-restarts' }, spec: { containers: [{ name: 'c', image: 'registry.example/none:1' }] } } });
    const node = await eventually('the pod to be scheduled', async () => (await core.readNamespacedPod({ namespace, name: 'after-restarts' })).spec?.nodeName || undefined, 60_000, 200);
    expect(node).toMatch(/^kwok-/);
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status)).toEqual(nodes.items.map(() => 'True'));
    await core.deleteNamespacedPod({ namespace, name: 'after-restarts', gracePeriodSeconds: 0 });
  });

  testWithRestarts('a stop of a component that is not running, or of an unknown one, is said plainly', async () => {
    await stopComponent('kube-scheduler');
    try {
      await expect(stopComponent('kube-scheduler')).resolves.toMatchObject({ component: 'kube-scheduler', action: 'stop' });
    } finally {
      await startComponent('kube-scheduler');
    }
    await expect(changeComponent('stop', 'kube-proxy' as never)).rejects.toThrow(/unknown component 'kube-proxy'/);
  });

  test('restarts are refused for a plane the run does not own', () => {
    const saved = process.env.NIGHTJAR_TEST_PLANE_RESTARTS;
    process.env.NIGHTJAR_TEST_PLANE_RESTARTS = '0';
    try {
      expect(restartsRefused()).toMatch(planeKubeConfigPath() === undefined ? /NIGHTJAR_TEST_KUBECONFIG/ : /NIGHTJAR_TEST_PLANE_RESTARTS is not 1/);
      return expect(restartComponent('kube-apiserver')).rejects.toThrow(/will not restart kube-apiserver/);
    } finally {
      if (saved === undefined) delete process.env.NIGHTJAR_TEST_PLANE_RESTARTS;
      else process.env.NIGHTJAR_TEST_PLANE_RESTARTS = saved;
    }
  });
});
