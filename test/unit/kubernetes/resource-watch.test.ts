import { KubeConfig } from '@kubernetes/client-node';
import { ResourceWatch, backoffDelayMs } from '../../../src/spark/kubernetes/resource-watch';

// The watch against a server (resume after a cut, relist after 410, faults, sharing) is tested
// on the real API server behind the fault proxy: test/kubernetes/platform.test.ts and
// test/kubernetes/local-operator/lifecycle.test.ts.

test('backoffDelayMs doubles from initialMs up to maxMs and jitter only shortens it', () => {
  const backoff = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };
  expect([1, 2, 3, 4, 8, 20, 200].map((n) => backoffDelayMs(n, backoff, 0))).toEqual([250, 500, 1000, 2000, 30_000, 30_000, 30_000]);
  expect(backoffDelayMs(1, backoff, 0.999)).toBeGreaterThanOrEqual(200);
  expect(backoffDelayMs(20, backoff, 0.5)).toBe(27_000);
});

test('the constructor rejects options that would make the loop misbehave', () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const base = { kubeConfig, path: '/apis/sparkoperator.k8s.io/v1beta2/namespaces/nightly/sparkapplications', name: 'x' };
  expect(() => new ResourceWatch({ ...base, path: 'apis/x' })).toThrow("must start with '/'");
  expect(() => new ResourceWatch({ ...base, timeoutSeconds: 0 })).toThrow('timeoutSeconds');
  expect(() => new ResourceWatch({ ...base, backoff: { initialMs: -1 } })).toThrow('backoff.initialMs');
  expect(() => new ResourceWatch({ ...base, backoff: { factor: 0.5 } })).toThrow('backoff.factor');
});
