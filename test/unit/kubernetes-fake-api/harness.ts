import { ApiException, CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { FakeKubeApiServer, type FakeKubeApiServerOptions, type KubeStatus } from '../../../src/spark/kubernetes/fake-api';

export const SPARK = { group: 'sparkoperator.k8s.io', version: 'v1beta2', plural: 'sparkapplications' } as const;
export const NAMESPACE = 'nightly';

export interface FakeCluster {
  readonly server: FakeKubeApiServer;
  readonly kubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
}

/** A fresh fake API server per test, stopped (and its background errors surfaced) after it. */
export function useFakeCluster(options: FakeKubeApiServerOptions = {}): () => FakeCluster {
  let cluster: FakeCluster | undefined;
  beforeEach(async () => {
    const server = new FakeKubeApiServer(options);
    await server.start();
    const kubeConfig = server.kubeConfig();
    cluster = { server, kubeConfig, custom: kubeConfig.makeApiClient(CustomObjectsApi), core: kubeConfig.makeApiClient(CoreV1Api) };
  });
  afterEach(async () => {
    await cluster?.server.stop();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error('the fake cluster exists only inside a test');
    return cluster;
  };
}

export function sparkApplication(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'sparkoperator.k8s.io/v1beta2',
    kind: 'SparkApplication',
    metadata: { name, labels },
    spec: { type: 'Python', mode: 'cluster', image: 'nightjar/spark:1', mainApplicationFile: 'local:///app/job.py' },
  };
}

/** The ApiException a call rejects with (anything else fails the test). */
export async function rejectionOf(call: Promise<unknown>): Promise<ApiException<string>> {
  const outcome = await call.then(
    () => new Error('expected the call to be rejected, it succeeded'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof ApiException)) throw outcome instanceof Error ? outcome : new Error(String(outcome));
  return outcome as ApiException<string>;
}

/** The Status object of a rejected call, parsed from the raw body client-node keeps as a string. */
export function statusOf(error: ApiException<string>): KubeStatus {
  return JSON.parse(error.body) as KubeStatus;
}

export interface WatchEvent {
  readonly type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Watch callback hands over parsed JSON
  readonly object: any;
}

export interface OpenWatch {
  readonly events: WatchEvent[];
  /** Resolves with the done callback's argument (an error, or null for a clean end). */
  readonly done: Promise<unknown>;
  readonly controller: AbortController;
}

export async function openWatch(kubeConfig: KubeConfig, path: string, query: Record<string, string | boolean | number | undefined> = {}): Promise<OpenWatch> {
  const events: WatchEvent[] = [];
  let finish: (error: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => {
    finish = resolve;
  });
  const controller = await new Watch(kubeConfig).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (error) => finish(error),
  );
  return { events, done, controller };
}

/** Waits (bounded) until the condition holds. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function customPath(namespace = NAMESPACE): string {
  return `/apis/${SPARK.group}/${SPARK.version}/namespaces/${namespace}/${SPARK.plural}`;
}
