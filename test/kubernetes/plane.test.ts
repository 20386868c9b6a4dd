import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig, planeKubeConfigFile, RACK_LABEL, ZONE_LABEL } from '../support/local-plane';

/**
 * The local control plane itself (scripts/k8s.sh): idempotent start, the nodes it promises, and the
 * real controllers the platform relies on — garbage collection and the scheduler.
 */
jest.setTimeout(90_000);

const REPO = path.resolve(__dirname, '..', '..');
const kc = planeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let namespace = '';

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'plane');
  // The controller-manager creates each namespace's default ServiceAccount; pods need it.
  await until('the default ServiceAccount', async () => Boolean(await core.readNamespacedServiceAccount({ namespace, name: 'default' }).catch(() => undefined)));
});
afterAll(async () => {
  await deleteTestNamespace(kc, namespace);
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function pids(): Record<string, string> {
  const dir = path.join(path.dirname(planeKubeConfigFile()), 'pids');
  return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8').trim()]));
}

test('a second `up` while the plane runs returns its kubeconfig and starts nothing', () => {
  const before = pids();
  const again = spawnSync('bash', [path.join(REPO, 'scripts', 'k8s.sh'), 'up'], { encoding: 'utf8' });
  expect(again.status).toBe(0);
  expect(again.stdout.trim().split('\n').pop()).toBe(planeKubeConfigFile());
  expect(again.stderr).toContain('already running');
  expect(pids()).toEqual(before);
  expect(Object.keys(before).sort()).toEqual(['etcd.pid', 'kube-apiserver.pid', 'kube-controller-manager.pid', 'kube-scheduler.pid', 'kwok.pid']);
});

test('four Ready kwok nodes in two zones and four racks', async () => {
  const nodes = (await core.listNode()).items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake');
  const ready = (n: k8s.V1Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  expect(nodes.filter(ready)).toHaveLength(4);
  expect(new Set(nodes.map((n) => n.metadata?.labels?.[ZONE_LABEL]))).toEqual(new Set(['zone-a', 'zone-b']));
  expect(new Set(nodes.map((n) => n.metadata?.labels?.[RACK_LABEL]))).toEqual(new Set(['rack-a1', 'rack-a2', 'rack-b1', 'rack-b2']));
});

test('garbage collection removes a dependent once its owner is deleted', async () => {
  const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
  const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, blockOwnerDeletion: true }];
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'dependent', ownerReferences } } });
  await core.deleteNamespacedConfigMap({ namespace, name: 'owner', propagationPolicy: 'Background' });
  await until('the dependent to be collected', async () => (await core.readNamespacedConfigMap({ namespace, name: 'dependent' }).catch(() => undefined)) === undefined);
});

test('the scheduler honours required zone affinity, and a pod for the local runtime stays Pending for it', async () => {
  const affinity: k8s.V1Affinity = {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: ['zone-b'] }] }] } },
  };
  const pod = (name: string, labels: Record<string, string> = {}): k8s.V1Pod => ({
    metadata: { name, labels },
    spec: { affinity, restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.bank.example/none:1' }] },
  });
  await core.createNamespacedPod({ namespace, body: pod('in-zone-b') });
  await core.createNamespacedPod({ namespace, body: pod('for-the-runtime', { 'nightjar.io/runtime': 'local' }) });
  let placed: k8s.V1Pod | undefined;
  await until('in-zone-b to run', async () => {
    placed = await core.readNamespacedPod({ namespace, name: 'in-zone-b' });
    return placed.status?.phase === 'Running';
  });
  expect(placed?.spec?.nodeName).toMatch(/^kwok-b[12]$/);
  const waiting = await core.readNamespacedPod({ namespace, name: 'for-the-runtime' });
  expect(waiting.spec?.nodeName).toMatch(/^kwok-b[12]$/);
  expect(waiting.status?.phase).toBe('Pending');
});
