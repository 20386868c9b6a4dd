import * as k8s from '@kubernetes/client-node';
import type { SparkResources } from '../../src/domain/spark/resources';
import { buildSparkApplication, type SparkApplicationInput } from '../../src/spark/kubernetes/spark-application';
import type { SparkAttemptRequest } from '../../src/spark/platform';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig } from '../support/local-plane';

/**
 * The SparkApplication CRD that scripts/k8s.sh derives from the operator's published API, on the
 * real API server: it refuses what the operator's CRD refuses and accepts every body we build.
 * Bodies are sent with dryRun=All: validated and admitted in full, never stored.
 */
jest.setTimeout(60_000);

const GROUP = 'sparkoperator.k8s.io';
const VERSION = 'v1beta2';
const PLURAL = 'sparkapplications';

const kc = planeKubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
let namespace = '';

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'crd');
});
afterAll(async () => {
  await deleteTestNamespace(kc, namespace);
});

const resources: SparkResources = {
  driverMemoryMb: 1024,
  driverCores: 1,
  executorMemoryMb: 2048,
  executorCores: 2,
  executorInstances: 2,
  memoryOverheadMb: null,
  shufflePartitions: 8,
};

function request(job: 'normalize' | 'transform', attempt: number, change: Partial<SparkResources> = {}): SparkAttemptRequest {
  const attemptId = `nj-20261204-${job}-1a2b3c4d-a${attempt}`;
  return {
    attemptId,
    workflowId: `nightjar-daily-2026-12-04-${job}`,
    businessDate: '2026-12-04',
    job,
    attempt,
    resources: { ...resources, ...change },
    mainFile: `/srv/nightjar/spark/jobs/${job}.py`,
    args: ['--spec', `/etc/nightjar/spec/spec.json`],
    sparkConf: { 'spark.sql.adaptive.enabled': 'true' },
  };
}

const minimal = (job: 'normalize' | 'transform' = 'normalize'): SparkApplicationInput => ({
  request: request(job, 1),
  namespace: 'placeholder',
  image: 'registry.bank.example/nightjar-spark:1.0.0',
  serviceAccount: 'nightjar-spark',
  mainApplicationFile: `local:///opt/nightjar/spark/jobs/${job}.py`,
  ttlSeconds: 3600,
  sparkVersion: '4.0.1',
});

/** Every optional part of the input, alone and together, as the platform's configurations use them. */
const CONFIGURATIONS: Record<string, SparkApplicationInput> = {
  minimal: minimal(),
  'transform, attempt 3 with escalated memory and overhead': {
    ...minimal('transform'),
    request: request('transform', 3, { executorMemoryMb: 8192, driverMemoryMb: 4096, memoryOverheadMb: 1024, executorInstances: 4 }),
  },
  'spec ConfigMap, Spark conf ConfigMap, python 3, pull policy': {
    ...minimal(),
    specConfigMap: 'nj-20261204-normalize-1a2b3c4d-a1-spec',
    sparkConfConfigMap: 'nightjar-spark-conf',
    pythonVersion: '3',
    imagePullPolicy: 'IfNotPresent',
  },
  'Secrets by reference': { ...minimal(), secretEnv: [{ name: 'WAREHOUSE_PASSWORD', secretName: 'warehouse-credentials', key: 'password' }] },
  'node selector, tolerations, priority class': {
    ...minimal(),
    placement: {
      nodeSelector: { 'nightjar.io/pool': 'batch' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' },
        { key: 'spot', operator: 'Exists', effect: 'NoExecute' },
      ],
      priorityClassName: 'nightly-batch',
    },
  },
  'required zone locality': { ...minimal(), placement: { locality: { topologyKey: 'topology.kubernetes.io/zone', values: ['zone-b'], required: true } } },
  'preferred rack locality': {
    ...minimal('transform'),
    placement: { locality: { topologyKey: 'topology.nightjar.io/rack', values: ['rack-b1', 'rack-b2'], required: false } },
  },
  'volcano queue': { ...minimal(), batchScheduler: { name: 'volcano', queue: 'nightly' } },
  yunikorn: { ...minimal(), batchScheduler: { name: 'yunikorn' } },
  'data volume and annotations': {
    ...minimal(),
    dataVolume: { claimName: 'nightjar-data', mountPath: '/var/lib/nightjar' },
    annotations: { 'nightjar.io/night': 'nightjar-daily-default-2026-12-04 with a long value '.repeat(8) },
  },
};

async function dryRunCreate(body: object): Promise<void> {
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body, dryRun: 'All' });
}

/** The refusal of a body: HTTP status and the server's message. */
async function refusal(body: object): Promise<{ code: number; message: string }> {
  try {
    await dryRunCreate(body);
  } catch (error) {
    const e = error as { code?: number; body?: unknown };
    const parsed = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
    return { code: e.code ?? 0, message: parsed?.message ?? String(e.body) };
  }
  throw new Error('the API server accepted a body the CRD must refuse');
}

type Body = { metadata: Record<string, unknown>; spec: Record<string, unknown> & { driver: Record<string, unknown> } };

function body(): Body {
  const app = buildSparkApplication({ ...CONFIGURATIONS.minimal!, namespace });
  return JSON.parse(JSON.stringify(app)) as Body;
}

describe('the SparkApplication CRD on the real API server', () => {
  test.each(Object.entries(CONFIGURATIONS))('accepts the body built for: %s', async (_name, input) => {
    await expect(dryRunCreate(buildSparkApplication({ ...input, namespace }))).resolves.toBeUndefined();
  });

  test('refuses an unknown application type (422, naming spec.type)', async () => {
    const b = body();
    b.spec.type = 'Cobol';
    const r = await refusal(b);
    expect(r.code).toBe(422);
    expect(r.message).toContain('spec.type');
    expect(r.message).toContain('Unsupported value: "Cobol"');
  });

  test('refuses an unknown mode (422, naming spec.mode)', async () => {
    const b = body();
    b.spec.mode = 'sideways';
    const r = await refusal(b);
    expect(r.code).toBe(422);
    expect(r.message).toContain('spec.mode');
  });

  test('refuses cores that are not an integer, or below 1 (422, naming the field)', async () => {
    const words = body();
    words.spec.driver.cores = 'one';
    const r1 = await refusal(words);
    expect(r1.code).toBe(422);
    expect(r1.message).toContain('spec.driver.cores');

    const zero = body();
    (zero.spec.executor as Record<string, unknown>).cores = 0;
    const r2 = await refusal(zero);
    expect(r2.code).toBe(422);
    expect(r2.message).toContain('spec.executor.cores');
  });

  test.each(['type', 'sparkVersion', 'mainApplicationFile', 'driver', 'executor'])('refuses a spec without %s (422)', async (field) => {
    const b = body();
    delete b.spec[field];
    const r = await refusal(b);
    expect(r.code).toBe(422);
    expect(r.message).toContain(`spec.${field}`);
    expect(r.message).toContain('Required value');
  });

  test('refuses an unknown restart policy and python version', async () => {
    const b = body();
    b.spec.restartPolicy = { type: 'Sometimes' };
    b.spec.pythonVersion = '4';
    const r = await refusal(b);
    expect(r.code).toBe(422);
    expect(r.message).toContain('spec.restartPolicy.type');
    expect(r.message).toContain('spec.pythonVersion');
  });

  test('prunes fields the schema does not know instead of storing them', async () => {
    const b = body();
    b.spec.notAField = 'x';
    const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: b, dryRun: 'All' })) as {
      spec: Record<string, unknown>;
    };
    expect(created.spec).not.toHaveProperty('notAField');
    expect(created.spec.type).toBe('Python');
  });
});
