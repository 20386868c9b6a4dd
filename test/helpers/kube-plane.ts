import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';

/**
 * The local control plane of scripts/k8s.sh (real etcd, kube-apiserver, controller-manager,
 * scheduler; kwok nodes). The test command starts it and exports NIGHTJAR_TEST_KUBECONFIG; a
 * developer runs `npm run k8s:up` once and the tests find it through `k8s.sh status`.
 */
const REPO = path.resolve(__dirname, '..', '..');

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const RACK_LABEL = 'topology.nightjar.io/rack';

let cached: string | undefined;

/** The admin kubeconfig of the running plane; throws saying how to start it. */
export function planeKubeconfig(): string {
  if (cached) return cached;
  const fromEnv = process.env.NIGHTJAR_TEST_KUBECONFIG;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`NIGHTJAR_TEST_KUBECONFIG=${fromEnv} does not exist: start the plane with 'npm run k8s:up'`);
    cached = fromEnv;
    return fromEnv;
  }
  const status = spawnSync('bash', [path.join(REPO, 'scripts', 'k8s.sh'), 'status'], { encoding: 'utf8' });
  const last = status.stdout.trim().split('\n').pop() ?? '';
  if (status.status !== 0 || !last) {
    throw new Error("the local Kubernetes control plane is not running: start it with 'npm run k8s:up' (or set NIGHTJAR_TEST_KUBECONFIG)");
  }
  cached = last;
  return last;
}

/** A KubeConfig for the plane's admin (system:masters). */
export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(planeKubeconfig());
  return kc;
}

/** The same cluster as `base`, authenticated by a bearer token (e.g. a ServiceAccount's). */
export function tokenKubeConfig(base: k8s.KubeConfig, token: string, user = 'token-user'): k8s.KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc;
}

/** A short-lived token of a ServiceAccount (TokenRequest), as its pod would get it. */
export async function serviceAccountToken(kc: k8s.KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const answer = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = answer.status?.token;
  if (!token) throw new Error(`no token issued for ServiceAccount ${namespace}/${name}`);
  return token;
}

/** Creates a namespace with a unique name and deletes it after the test file. */
export async function createNamespace(kc: k8s.KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`.slice(0, 63);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name, labels: { 'nightjar.io/test': prefix } } } });
  return name;
}

export async function deleteNamespace(kc: k8s.KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}

/** The HTTP status of a refused call from @kubernetes/client-node (its ApiException's code), or 'ok'. */
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
