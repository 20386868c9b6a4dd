import fs from 'node:fs';
import path from 'node:path';
import { ConfigSchema, FILE_VARIABLES, loadConfig } from '../../src/config/config';
import { ciValues, find, only, render, tempDir, type KubeObject } from './tools';

type ConfigMapObject = KubeObject & { data: Record<string, string> };
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
type DeploymentObject = KubeObject & { spec: { template: { spec: { containers: { name: string; env?: EnvVar[] }[] } } } };

const KNOWN = new Set([...Object.keys(ConfigSchema.shape), ...FILE_VARIABLES.map((name) => `${name}_FILE`)]);
const WORK = tempDir('config');
/** What the Secrets referenced by the chart would hold, to parse the configuration as a pod sees it. */
const SECRET_VALUES: Record<string, string> = {
  NIGHTJAR_REPORTING_PG_URL: 'postgres://nightjar:pw@postgres.bank.example:5432/nightjar',
  NIGHTJAR_CODEC_TOKENS: 'codec-token-0123456789abcdef',
  NIGHTJAR_HTTP_TOKENS: 'trigger-token-0123456789abcdef',
};

describe.each(ciValues())('ci/$name-values.yaml', ({ name, file }) => {
  const namespace = `tenant-${name}`;
  const { objects } = render(namespace, [file]);
  const config = only(objects, 'ConfigMap', '-config') as ConfigMapObject;

  test('every key of the ConfigMap is a variable of ConfigSchema', () => {
    expect(Object.keys(config.data).filter((k) => !KNOWN.has(k))).toEqual([]);
  });

  test('every variable a Deployment sets itself is known too; credentials come from Secrets', () => {
    for (const deployment of find(objects, 'Deployment') as DeploymentObject[]) {
      for (const container of deployment.spec.template.spec.containers) {
        for (const env of container.env ?? []) {
          expect(KNOWN.has(env.name)).toBe(true);
          expect(env.name in SECRET_VALUES).toBe(false);
          if (env.name.endsWith('_FILE')) expect({ name: env.name, value: env.value }).toEqual({ name: env.name, value: expect.stringMatching(/^\/var\/run\/secrets\/nightjar\//) });
        }
      }
    }
  });

  test('the rendered configuration, with its Secrets filled in, parses with loadConfig for every process', () => {
    for (const deployment of find(objects, 'Deployment') as DeploymentObject[]) {
      const container = deployment.spec.template.spec.containers[0];
      const env = { ...config.data, ...Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? 'missing'])) };
      // What the mounted Secret files would hold: the value of the variable whose `_FILE` names the path.
      const files = Object.fromEntries(FILE_VARIABLES.filter((n) => env[`${n}_FILE`] !== undefined).map((n) => [env[`${n}_FILE`], SECRET_VALUES[n]]));
      const parsed = loadConfig(env, '/app', (file) => files[file] ?? (() => { throw new Error(`ENOENT: ${file}`); })());
      expect(parsed.tenant).toBe(config.data.NIGHTJAR_TENANT);
      // Only the worker opens the reporting database.
      expect(parsed.reporting.kind).toBe(deployment.metadata.name.endsWith('-worker') ? 'postgres' : 'pglite');
      expect(parsed.encryption).toEqual({ keysDir: config.data.NIGHTJAR_ENCRYPTION_KEYS_DIR, activeKeyId: config.data.NIGHTJAR_ENCRYPTION_KEY_ID, plaintext: config.data.NIGHTJAR_ENCRYPTION_PLAINTEXT ?? 'accept' });
      expect(parsed.spark.platform).toBe('kubernetes');
      expect(parsed.spark.kubernetes?.config).toEqual({ kind: 'in-cluster' });
      expect(parsed.spark.kubernetes?.settings.namespace).toBe(namespace);
      expect(parsed.observability.healthAddress).toMatch(/^0\.0\.0\.0:\d+$/);
      expect(parsed.observability.metricsAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    }
  });
});

test('the full values reach the configuration: mTLS, the shared volume, placement, the OOM policy, the schedule', () => {
  const { objects } = render('tenant-full', [ciValues().find((c) => c.name === 'full')?.file ?? '']);
  const data = (only(objects, 'ConfigMap', '-config') as ConfigMapObject).data;
  const config = loadConfig({ ...data, ...SECRET_VALUES, NIGHTJAR_REPORTING_STORE: 'postgres' }, '/app');
  expect(config.temporal.tls).toEqual({
    certFile: '/etc/nightjar/temporal-tls/tls.crt',
    keyFile: '/etc/nightjar/temporal-tls/tls.key',
    caFile: '/etc/nightjar/temporal-tls/ca.crt',
    serverName: 'temporal.bank.example',
  });
  const k8s = config.spark.kubernetes?.settings;
  expect(k8s?.dataVolume).toEqual({ claimName: 'nightjar-data', mountPath: '/var/lib/nightjar' });
  expect(k8s?.image).toMatch(/^registry\.bank\.example\/platform\/nightjar-spark:0\.1\.0@sha256:[0-9a-f]{64}$/);
  expect(k8s?.placement).toEqual({ nodeSelector: { workload: 'batch' }, tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }], priorityClassName: 'batch-high' });
  expect(k8s?.locality).toEqual({ topologyKey: 'topology.kubernetes.io/zone', values: ['eu-west-1a', 'eu-west-1b'], required: true });
  expect(k8s?.batchScheduler).toEqual({ name: 'volcano', queue: 'nightly' });
  expect(k8s?.secretEnv).toEqual([{ name: 'OBJECT_STORE_TOKEN', secretName: 'nightjar-object-store', key: 'token' }]);
  expect(config.spark.escalation).toMatchObject({ maxAttempts: 5, memoryFactor: 1.5, executorInstancesFactor: 0.5, maxExecutorInstances: 16, maxTotalMemoryMb: 131072 });
  expect(config.spark.escalationByJob.transform.maxExecutorMemoryMb).toBe(32768);
  expect(config.spark.defaults.transform.executorMemoryMb).toBe(8192);
  expect(config.spark.stepsAtOnce).toBe(3);
  expect(config.schedule).toEqual({ time: '05:30', catchupWindowSeconds: 21600, lookbackDays: 14 });
  expect(config.janitor).toEqual({ everySeconds: 1800, minAgeSeconds: 3600 });
  expect(config.calendar).toMatchObject({ timeZone: 'Europe/Brussels', holidays: ['2026-12-25', '2026-12-26', '2027-01-01'] });
  expect(config.worker.shutdownGraceSeconds).toBe(120);
  expect(config.kafka?.brokers).toEqual(['kafka-0.kafka.svc:9092', 'kafka-1.kafka.svc:9092']);
  expect(config.codecServer).toMatchObject({ host: '0.0.0.0', port: 8089, corsOrigins: ['https://temporal-ui.bank.example'] });
});

test('a janitor interval of 0 renders as off, which the configuration reads as no janitor schedule', () => {
  const minimal = ciValues().find((c) => c.name === 'minimal')?.file ?? '';
  const off = path.join(WORK, 'janitor-off.yaml');
  fs.writeFileSync(off, 'janitor:\n  everySeconds: 0\n');
  const { objects } = render('tenant-minimal', [minimal, off]);
  const data = (only(objects, 'ConfigMap', '-config') as ConfigMapObject).data;
  expect(data.NIGHTJAR_JANITOR_EVERY_SECONDS).toBe('off');
  expect(loadConfig({ ...data, ...SECRET_VALUES }, '/app').janitor.everySeconds).toBe(0);
});

test("spark-submit mode points the worker's spark-submit and its class-data archive at writable places", () => {
  const minimal = ciValues().find((c) => c.name === 'minimal')?.file ?? '';
  const mode = path.join(WORK, 'spark-submit-mode.yaml');
  fs.writeFileSync(mode, 'spark:\n  submitMode: spark-submit\n');
  const { objects } = render('tenant-minimal', [minimal, mode]);
  const data = (only(objects, 'ConfigMap', '-config') as ConfigMapObject).data;
  // The root file system is read-only: the archive goes to the pod's /tmp emptyDir, not the home directory.
  expect(data.NIGHTJAR_SPARK_CDS_DIR).toBe('/tmp/nightjar-spark-cds');
  const parsed = loadConfig({ ...data, ...SECRET_VALUES }, '/app');
  expect(parsed.spark.kubernetes?.submit.mode).toBe('spark-submit');
  expect(parsed.spark.sparkSubmit).toBe('/opt/spark/bin/spark-submit');
  expect(parsed.spark.classDataDir).toBe('/tmp/nightjar-spark-cds');
});
