import os from 'node:os';
import { loadConfig } from '../../src/config/config';

const root = os.tmpdir();
const k8s = { NIGHTJAR_SPARK_PLATFORM: 'kubernetes', NIGHTJAR_K8S_NAMESPACE: 'bank-nightly', NIGHTJAR_K8S_IMAGE: 'registry.bank/nightjar-spark:1.4.2' };

test('the operator is the default way onto Kubernetes', () => {
  expect(loadConfig(k8s, root).spark.kubernetes?.submit).toEqual({ mode: 'operator' });
});

test('spark-submit mode with its pod labels and timeout', () => {
  const c = loadConfig({ ...k8s, NIGHTJAR_K8S_SUBMIT: 'spark-submit', NIGHTJAR_K8S_POD_LABELS: 'nightjar.io/runtime=local', NIGHTJAR_K8S_SUBMIT_TIMEOUT_SECONDS: '90' }, root);
  expect(c.spark.kubernetes?.submit).toEqual({ mode: 'spark-submit', timeoutMs: 90_000, extraPodLabels: { 'nightjar.io/runtime': 'local' } });
});

test('an unknown mode is refused naming the variable and the accepted values', () => {
  expect(() => loadConfig({ ...k8s, NIGHTJAR_K8S_SUBMIT: 'kubectl' }, root)).toThrow(/NIGHTJAR_K8S_SUBMIT[\s\S]*operator[\s\S]*spark-submit/);
});
