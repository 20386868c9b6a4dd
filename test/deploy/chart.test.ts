import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { CHART, ciValues, find, KUBE_VERSION, only, render, run, tempDir, templateArgs, tool, type KubeObject } from './tools';

jest.setTimeout(120_000);

const CI = ciValues();
const MINIMAL = path.join(CHART, 'ci', 'minimal-values.yaml');
const rendered = new Map(CI.map(({ name, file }) => [name, render(`tenant-${name}`, [file])]));
const objectsOf = (name: string): KubeObject[] => {
  const r = rendered.get(name);
  if (!r) throw new Error(`no CI values named ${name}`);
  return r.objects;
};

/** Kinds of custom resources: kubernetes-validate has no schemas for them; they are checked by shape below. */
const CRD_KINDS = new Set(['ServiceMonitor', 'PrometheusRule']);
const WORK = tempDir('chart');

function kubernetesValidate(file: string) {
  return run(tool('kubernetes-validate'), ['--strict', '--kubernetes-version', KUBE_VERSION, '--quiet', file]);
}

test('kubernetes-validate rejects what it should (a misspelt field, a wrong type), so its silence means something', () => {
  const bad = path.join(WORK, 'bad.yaml');
  const deployment = objectsOf('minimal').find((o) => o.kind === 'Deployment') as KubeObject & { spec: Record<string, unknown> };
  fs.writeFileSync(bad, stringify({ ...deployment, spec: { ...deployment.spec, replicas: 'two', replica: 2 } }));
  const result = kubernetesValidate(bad);
  expect(result.status).not.toBe(0);
  expect(result.stdout + result.stderr).toMatch(/replica/);
});

test('the CI values files are there: minimal, full and a second tenant', () => {
  expect(CI.map((c) => c.name)).toEqual(expect.arrayContaining(['minimal', 'full', 'second-tenant']));
});

describe.each(CI)('ci/$name-values.yaml', ({ name, file }) => {
  test('helm lint --strict passes', () => {
    const result = run(tool('helm'), ['lint', CHART, '--strict', '--namespace', `tenant-${name}`, '--kube-version', KUBE_VERSION, '--values', file]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('0 chart(s) failed') });
  });

  test('every object is in the release namespace with the standard and tenant labels', () => {
    const objects = objectsOf(name);
    const tenant = (parseYaml(fs.readFileSync(file, 'utf8')) as { tenant: string }).tenant;
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) {
      expect({ object: `${o.kind}/${o.metadata.name}`, namespace: o.metadata.namespace }).toEqual({ object: `${o.kind}/${o.metadata.name}`, namespace: `tenant-${name}` });
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'nightjar',
        'app.kubernetes.io/instance': 'nightjar',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'nightjar',
        'app.kubernetes.io/version': '0.1.0',
        'nightjar.io/tenant': tenant,
      });
    }
  });

  test('every core object validates against the Kubernetes schemas (strict, offline)', () => {
    const core = objectsOf(name).filter((o) => !CRD_KINDS.has(o.kind));
    const target = path.join(WORK, `${name}-core.yaml`);
    fs.writeFileSync(target, core.map((o) => stringify(o)).join('---\n'));
    const result = kubernetesValidate(target);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  });

  test('the worker: probes on the health port, metrics port, grace longer than the shutdown grace, hardened', () => {
    const objects = objectsOf(name);
    const deployment = only(objects, 'Deployment', '-worker') as KubeObject & { spec: { template: { spec: PodSpec } } };
    const pod = deployment.spec.template.spec;
    const container = pod.containers.find((c) => c.name === 'worker');
    expect(container).toBeDefined();
    if (!container) return;
    const config = only(objects, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> };
    const [healthHost, healthPort] = (config.data.NIGHTJAR_HEALTH_ADDRESS ?? '').split(':');
    const [, metricsPort] = (config.data.NIGHTJAR_METRICS_ADDRESS ?? '').split(':');
    expect(healthHost).toBe('0.0.0.0');
    expect(container.ports).toEqual(
      expect.arrayContaining([
        { name: 'health', containerPort: Number(healthPort), protocol: 'TCP' },
        { name: 'metrics', containerPort: Number(metricsPort), protocol: 'TCP' },
      ]),
    );
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/livez', port: 'health' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.args).toEqual(['worker']);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(config.data.NIGHTJAR_SHUTDOWN_GRACE_SECONDS));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const mounts = Object.fromEntries((container.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    expect(mounts['/tmp']).toBe('tmp');
    expect(mounts[config.data.NIGHTJAR_DATA_DIR ?? '']).toBe('data');
    expect(mounts[config.data.NIGHTJAR_ENCRYPTION_KEYS_DIR ?? '']).toBe('encryption-keys');
  });

  test('secrets are referenced, never rendered: no Secret objects, no credential in the ConfigMap', () => {
    const objects = objectsOf(name);
    expect(find(objects, 'Secret')).toEqual([]);
    const config = only(objects, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> };
    for (const key of ['NIGHTJAR_REPORTING_PG_URL', 'NIGHTJAR_CODEC_TOKENS', 'NIGHTJAR_HTTP_TOKENS']) expect(config.data).not.toHaveProperty(key);
    const deployment = only(objects, 'Deployment', '-worker') as KubeObject & { spec: { template: { spec: PodSpec } } };
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    // Credentials reach the process as mounted Secret files (`<NAME>_FILE`), neither as values nor as environment.
    expect(env.filter((e) => e.valueFrom?.secretKeyRef !== undefined)).toEqual([]);
    expect(env.find((e) => e.name === 'NIGHTJAR_REPORTING_PG_URL')).toBeUndefined();
    const urlFile = env.find((e) => e.name === 'NIGHTJAR_REPORTING_PG_URL_FILE')?.value ?? '';
    const container = deployment.spec.template.spec.containers[0];
    const mount = (container?.volumeMounts ?? []).find((m) => urlFile.startsWith(`${m.mountPath}/`));
    const volumes = deployment.spec.template.spec.volumes ?? [];
    expect(mount?.name).toBe('reporting');
    expect(volumes.find((v) => v.name === 'reporting')?.secret?.secretName).toEqual(expect.any(String));
    expect(volumes.find((v) => v.name === 'encryption-keys')?.secret?.secretName).toEqual(expect.any(String));
  });

  test('custom resources have the shape their operators expect', () => {
    const objects = objectsOf(name);
    for (const monitor of find(objects, 'ServiceMonitor')) {
      expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
      const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[]; namespaceSelector: { matchNames: string[] } };
      expect(spec.namespaceSelector.matchNames).toEqual([`tenant-${name}`]);
      const service = only(objects, 'Service', '-metrics') as KubeObject & { spec: { ports: { name: string }[] } };
      expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
      expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
      expect(service.spec.ports.map((p) => p.name)).toContain('metrics');
    }
    for (const rule of find(objects, 'PrometheusRule')) {
      expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
      const groups = (rule.spec as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] }).groups;
      expect(groups.length).toBeGreaterThan(0);
      for (const group of groups) {
        expect(typeof group.name).toBe('string');
        for (const r of group.rules) {
          expect(typeof (r.alert ?? r.record)).toBe('string');
          expect(typeof r.expr).toBe('string');
        }
      }
      const source = parseYaml(fs.readFileSync(path.join(CHART, 'files', 'nightjar-alerts.yaml'), 'utf8')) as { groups: unknown };
      expect(groups).toEqual(source.groups);
    }
  });
});

describe('ci/full-values.yaml: the optional parts', () => {
  const objects = () => objectsOf('full');

  test('renders codec server and triggers (Deployment + Service), PVC, quota, ServiceMonitor', () => {
    const o = objects();
    for (const component of ['-codec-server', '-triggers']) {
      const deployment = only(o, 'Deployment', component) as KubeObject & { spec: { template: { spec: PodSpec } } };
      expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
      only(o, 'Service', component);
    }
    const args = (suffix: string) => (only(o, 'Deployment', suffix) as KubeObject & { spec: { template: { spec: PodSpec } } }).spec.template.spec.containers[0]?.args;
    expect(args('-codec-server')).toEqual(['codec-server']);
    expect(args('-triggers')).toEqual(['triggers']);
    const claim = only(o, 'PersistentVolumeClaim');
    expect((only(o, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> }).data.NIGHTJAR_K8S_DATA_PVC).toBe(claim.metadata.name);
    only(o, 'ResourceQuota');
    only(o, 'ServiceMonitor');
    only(o, 'PodDisruptionBudget');
    only(o, 'NetworkPolicy');
  });

  test('mTLS files are mounted and the config points at them', () => {
    const o = objects();
    const data = (only(o, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> }).data;
    const deployment = only(o, 'Deployment', '-worker') as KubeObject & { spec: { template: { spec: PodSpec } } };
    const mount = deployment.spec.template.spec.containers[0]?.volumeMounts?.find((m) => m.name === 'temporal-tls');
    expect(mount?.readOnly).toBe(true);
    for (const key of ['NIGHTJAR_TEMPORAL_TLS_CERT', 'NIGHTJAR_TEMPORAL_TLS_KEY', 'NIGHTJAR_TEMPORAL_TLS_CA']) {
      expect(data[key]?.startsWith(`${mount?.mountPath ?? '?'}/`)).toBe(true);
    }
  });

  const alerts = path.join(CHART, 'files', 'nightjar-alerts.yaml');
  const dashboard = path.join(CHART, 'files', 'grafana-dashboard.json');
  (fs.existsSync(alerts) ? test : test.skip)('the PrometheusRule carries files/nightjar-alerts.yaml', () => {
    expect(find(objects(), 'PrometheusRule')).toHaveLength(1);
  });
  (fs.existsSync(dashboard) ? test : test.skip)('the dashboard ConfigMap carries files/grafana-dashboard.json for Grafana sidecars', () => {
    const configMap = only(objects(), 'ConfigMap', '-dashboard') as KubeObject & { data: Record<string, string> };
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data['nightjar.json'] ?? '')).toEqual(JSON.parse(fs.readFileSync(dashboard, 'utf8')));
  });

  test('the NetworkPolicy admits only the configured namespaces on the serving ports, and egress only to DNS, Temporal, PostgreSQL, the API and Kafka', () => {
    const policy = only(objects(), 'NetworkPolicy') as KubeObject & { spec: NetworkPolicySpec };
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const ingress = policy.spec.ingress[0];
    expect(ingress?.from).toEqual([{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['tenant-full', 'monitoring', 'temporal'] }] } }]);
    expect(ingress?.ports.map((p) => p.port).sort()).toEqual([8080, 8088, 8089, 9464]);
    const egressPorts = policy.spec.egress.map((e) => e.ports.map((p) => p.port));
    expect(egressPorts).toEqual([[53, 53], [7233], [5432], [443, 6443], [9092]]);
    for (const rule of policy.spec.egress) expect(rule.to?.length ?? 0).toBeGreaterThan(0);
  });
});

test('two tenants in two namespaces share no object names that would clash cluster-wide and no namespace', () => {
  const first = objectsOf('minimal');
  const second = objectsOf('second-tenant');
  expect(new Set(first.map((o) => o.metadata.namespace))).toEqual(new Set(['tenant-minimal']));
  expect(new Set(second.map((o) => o.metadata.namespace))).toEqual(new Set(['tenant-second-tenant']));
  for (const o of [...first, ...second]) expect(['ClusterRole', 'ClusterRoleBinding', 'Namespace']).not.toContain(o.kind);
  const data = (only(second, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> }).data;
  expect(data).toMatchObject({ NIGHTJAR_TENANT: 'globex', NIGHTJAR_K8S_NAMESPACE: 'tenant-second-tenant', NIGHTJAR_K8S_SERVICE_ACCOUNT: 'globex-spark', NIGHTJAR_K8S_DATA_PVC: 'globex-lake' });
  expect(find(second, 'PersistentVolumeClaim')).toEqual([]); // an existing claim is used, not created
});

// ---- values the chart must refuse, with a message naming the field ----------------------------

const BAD_VALUES: { what: string; values: Record<string, unknown>; message: RegExp }[] = [
  { what: 'no tenant', values: { tenant: '' }, message: /\/tenant/ },
  { what: 'an upper-case tenant', values: { tenant: 'ACME' }, message: /\/tenant/ },
  { what: 'the latest tag', values: { image: { tag: 'latest' } }, message: /\/image\/tag/ },
  { what: 'no Spark image', values: { sparkImage: { repository: '' } }, message: /\/sparkImage\/repository/ },
  { what: 'a malformed digest', values: { image: { digest: 'sha256:abc' } }, message: /\/image\/digest/ },
  { what: 'no Temporal address', values: { temporal: { address: '' } }, message: /\/temporal\/address/ },
  { what: 'a Temporal address without port', values: { temporal: { address: 'temporal.svc' } }, message: /\/temporal\/address/ },
  { what: 'no encryption Secret', values: { encryption: { existingSecret: '' } }, message: /\/encryption\/existingSecret/ },
  { what: 'no active key id', values: { encryption: { activeKeyId: '' } }, message: /\/encryption\/activeKeyId/ },
  { what: 'no reporting Secret', values: { reporting: { existingSecret: '' } }, message: /\/reporting\/existingSecret/ },
  { what: 'a schedule time that is not HH:MM', values: { schedule: { time: '6am' } }, message: /\/schedule\/time/ },
  { what: 'an unknown log level', values: { log: { level: 'verbose' } }, message: /\/log\/level/ },
  { what: 'a misspelt top-level key', values: { replicas: 3 }, message: /replicas/ },
  { what: 'a misspelt worker key', values: { worker: { replica: 3 } }, message: /replica/ },
  { what: 'escape analysis neither true nor false', values: { worker: { v8EscapeAnalysis: 'maybe' } }, message: /\/worker\/v8EscapeAnalysis/ },
  { what: 'an OOM memory factor of 1', values: { oom: { memoryFactor: 1 } }, message: /\/oom\/memoryFactor/ },
  { what: 'an unknown batch scheduler', values: { spark: { batchScheduler: { name: 'kueue' } } }, message: /\/spark\/batchScheduler\/name/ },
  { what: 'a per-job size for an unknown job', values: { spark: { jobResources: { ingest: { executorMemoryMb: 4096 } } } }, message: /\/spark\/jobResources/ },
  { what: 'extraConfig that is not a NIGHTJAR_ variable', values: { extraConfig: { JAVA_OPTS: '-Xmx1g' } }, message: /\/extraConfig/ },
  { what: 'a holiday that is not a date', values: { calendar: { holidays: ['25/12/2026'] } }, message: /\/calendar\/holidays\/0/ },
  { what: 'a termination grace not longer than the shutdown grace', values: { worker: { shutdownGraceSeconds: 60, terminationGracePeriodSeconds: 60 } }, message: /worker\.terminationGracePeriodSeconds \(60\) must be greater than worker\.shutdownGraceSeconds \(60\)/ },
  { what: 'mTLS without a Secret', values: { temporal: { tls: { enabled: true } } }, message: /temporal\.tls\.existingSecret is required/ },
  { what: 'a codec server without tokens', values: { codecServer: { enabled: true } }, message: /codecServer\.tokens\.existingSecret is required/ },
];

describe('bad values are refused by helm template, naming the field', () => {
  const dir = WORK;
  test.each(BAD_VALUES)('$what', ({ what, values, message }) => {
    const file = path.join(dir, `${what.replace(/\W+/g, '-')}.yaml`);
    fs.writeFileSync(file, stringify(values));
    const result = run(tool('helm'), templateArgs('tenant-bad', [MINIMAL, file]));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; secret?: { secretName: string } }[];
}
interface NetworkPolicySpec {
  policyTypes: string[];
  ingress: { from: unknown[]; ports: { port: number }[] }[];
  egress: { to?: unknown[]; ports: { port: number }[] }[];
}
