/**
 * The real control plane of `npm run k8s:up` (scripts/k8s.sh) for the tests: its admin
 * kubeconfig comes from NIGHTJAR_TEST_KUBECONFIG, which scripts/test.sh exports. Tests on it
 * create a namespace of their own with a unique name and delete it afterwards: other test runs
 * share the plane.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';

/** The node labels of the plane's kwok nodes (scripts/k8s.sh): two zones, four racks. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const RACK_LABEL = 'topology.nightjar.io/rack';

export const PLANE_ENV = 'NIGHTJAR_TEST_KUBECONFIG';

/** The admin kubeconfig's path, undefined when the variable is unset. */
export function planeKubeConfigPath(): string | undefined {
  const path = process.env[PLANE_ENV];
  return path === undefined || path === '' ? undefined : path;
}

/** `describe` when the plane is configured; otherwise skipped, saying why in its name. */
export function describeOnPlane(name: string, body: () => void): void {
  if (planeKubeConfigPath() !== undefined) describe(name, body);
  else describe.skip(`${name} — skipped: ${PLANE_ENV} is not set (run \`npm run k8s:up\` and export the kubeconfig path it prints)`, body);
}

/** The admin kubeconfig's path; throws saying how to start the plane when the variable is unset. */
export function planeKubeConfigFile(): string {
  const path = planeKubeConfigPath();
  if (path === undefined) throw new Error(`${PLANE_ENV} is not set: run \`npm run k8s:up\` and export the kubeconfig path it prints`);
  return path;
}

export function planeKubeConfig(): KubeConfig {
  const path = planeKubeConfigPath();
  if (path === undefined) throw new Error(`${PLANE_ENV} is not set: run \`npm run k8s:up\` and export the kubeconfig path it prints`);
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Service accounts the pods of a test's namespace run as (the ServiceAccount admission refuses pods of a missing one). */
const SERVICE_ACCOUNTS = ['default', 'nightjar-spark'];

/** A new namespace `<prefix>-<random>` with the service accounts Spark's pods name. */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { 'nightjar.io/test': 'true' } } } });
  for (const sa of SERVICE_ACCOUNTS) {
    try {
      await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: sa } } });
    } catch (error) {
      // The controller-manager creates `default` on its own; either way it exists.
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
  }
  return name;
}

/** Deletes the namespace; the namespace controller removes what is left in it. */
export async function deleteTestNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 404)) throw error;
  }
}

/** Polls `check` until it returns a value other than undefined; throws after `timeoutMs` saying what was awaited. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Waits until the plane can place pods: every node Ready and free of the not-ready/unreachable
 * taints (a node made NotReady by a test, or kwok away, leaves them for a while). Throws naming
 * the nodes that are not, so a night on a broken plane fails at once instead of waiting for pods
 * that are never placed.
 */
export async function planeSchedulable(kc: KubeConfig, timeoutMs = 90_000): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  let trouble: string[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await core.listNode()).items;
    trouble = nodes.flatMap((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const taints = (n.spec?.taints ?? []).map((t) => t.key).filter((k) => /not-ready|unreachable/.test(k));
      return ready === 'True' && taints.length === 0 ? [] : [`${n.metadata?.name} (Ready=${ready ?? 'none'}${taints.length ? `, tainted ${taints.join(',')}` : ''})`];
    });
    if (nodes.length > 0 && trouble.length === 0) return;
    if (Date.now() > end) throw new Error(`the plane cannot place pods after ${timeoutMs} ms: ${nodes.length === 0 ? 'no nodes' : trouble.join('; ')}`);
    await sleep(500);
  }
}

/**
 * Polls `read` every half second until `done` holds or `timeoutMs` passed, and returns the last
 * value read, so the test's own assertion on it says what was left.
 */
export async function settle<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await sleep(500);
  }
}

/**
 * What a Spark attempt can leave in a namespace, as `Kind/name`: pods, Services, ConfigMaps (but
 * the controller-manager's kube-root-ca.crt) and Spark 4's driver NetworkPolicy.
 */
export async function namespaceObjects(kc: KubeConfig, namespace: string): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const [pods, services, maps, policies] = await Promise.all([
    core.listNamespacedPod({ namespace }),
    core.listNamespacedService({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
    kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace }),
  ]);
  return [
    ...pods.items.map((o) => `Pod/${o.metadata?.name}`),
    ...services.items.map((o) => `Service/${o.metadata?.name}`),
    ...maps.items.filter((o) => o.metadata?.name !== 'kube-root-ca.crt').map((o) => `ConfigMap/${o.metadata?.name}`),
    ...policies.items.map((o) => `NetworkPolicy/${o.metadata?.name}`),
  ];
}

/** The same cluster as `base`, authenticated by a bearer token (e.g. a ServiceAccount's). */
export function tokenKubeConfig(base: KubeConfig, token: string, user = 'token-user'): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name: user, token }], contexts: [{ name: user, cluster: cluster.name, user }], currentContext: user });
  return kc;
}

/** A short-lived token of a ServiceAccount (TokenRequest), as its pod would get it. */
export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const answer = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = answer.status?.token;
  if (!token) throw new Error(`no token issued for ServiceAccount ${namespace}/${name}`);
  return token;
}

/** The HTTP status of a refused call (its ApiException's code), or 'ok'. */
export async function statusOf(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
}
