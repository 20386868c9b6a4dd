import path from 'node:path';
import { Annotation, attemptLabels } from '../../src/spark/kubernetes/labels';
import { attemptRequest, awaitOptions, describeOnPlane, RESOURCES, useCluster, type Cluster } from '../kubernetes/harness';
import type { ProxiedRequest } from '../support/fault-proxy';
import { CHART, find, only, render, type KubeObject } from './tools';

jest.setTimeout(120_000);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
type RoleObject = KubeObject & { rules: Rule[] };

const RELEASE_NAMESPACE = 'tenant-rbac';
const { objects } = render(RELEASE_NAMESPACE, [path.join(CHART, 'ci', 'full-values.yaml')]);

/** `group resource verb`, the unit RBAC grants. */
const permission = (group: string, resource: string, verb: string) => `${group || 'core'} ${resource} ${verb}`;

function granted(role: RoleObject): Set<string> {
  const out = new Set<string>();
  for (const rule of role.rules) {
    for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) out.add(permission(group, resource, verb));
  }
  return out;
}

describe('RBAC objects', () => {
  test('only namespaced Roles and RoleBindings, all in the release namespace', () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds).not.toContain('ClusterRole');
    expect(kinds).not.toContain('ClusterRoleBinding');
    const rbac = objects.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io/'));
    expect(rbac.map((o) => o.kind).sort()).toEqual(['Role', 'Role', 'RoleBinding', 'RoleBinding']);
    for (const o of rbac) expect(o.metadata.namespace).toBe(RELEASE_NAMESPACE);
  });

  test('no wildcards, no resource names or URLs that widen a rule, no escalation verbs', () => {
    for (const role of find(objects, 'Role') as RoleObject[]) {
      for (const rule of role.rules) {
        expect([...rule.apiGroups, ...rule.resources, ...rule.verbs].filter((x) => x.includes('*'))).toEqual([]);
        expect(rule.nonResourceURLs).toBeUndefined();
        expect(rule.verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
        // Nothing that reads or writes Secrets, roles or other tenants' namespaces.
        expect(rule.resources.filter((r) => ['secrets', 'roles', 'rolebindings', 'namespaces', 'serviceaccounts'].includes(r))).toEqual([]);
      }
    }
  });

  test('each binding binds its Role to its own service account in the release namespace', () => {
    const config = (only(objects, 'ConfigMap', '-config') as KubeObject & { data: Record<string, string> }).data;
    const worker = only(objects, 'Deployment', '-worker') as KubeObject & { spec: { template: { spec: { serviceAccountName: string } } } };
    const bindings = find(objects, 'RoleBinding') as (KubeObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] })[];
    const subjectsOf = (roleSuffix: string) => bindings.filter((b) => b.roleRef.kind === 'Role' && b.roleRef.name.endsWith(roleSuffix)).flatMap((b) => b.subjects);
    expect(subjectsOf('-worker')).toEqual([{ kind: 'ServiceAccount', name: worker.spec.template.spec.serviceAccountName, namespace: RELEASE_NAMESPACE }]);
    expect(subjectsOf('-spark-driver')).toEqual([{ kind: 'ServiceAccount', name: config.NIGHTJAR_K8S_SERVICE_ACCOUNT, namespace: RELEASE_NAMESPACE }]);
    for (const b of bindings) expect(find(objects, 'Role').map((r) => r.metadata.name)).toContain(b.roleRef.name);
  });

  test("the Spark driver's Role covers what Spark's Kubernetes backend does with executors, core group only", () => {
    const role = only(objects, 'Role', '-spark-driver') as RoleObject;
    const perms = granted(role);
    for (const resource of ['pods', 'configmaps', 'persistentvolumeclaims']) {
      for (const verb of ['create', 'get', 'list', 'watch', 'delete', 'deletecollection']) expect(perms).toContain(permission('', resource, verb));
    }
    for (const verb of ['create', 'get', 'delete']) expect(perms).toContain(permission('', 'services', verb));
    expect(role.rules.flatMap((r) => r.apiGroups)).toEqual(role.rules.map(() => ''));
  });
});

// ---- the worker's Role against what the worker really asks the API for --------------------------

/** The API group of a request, from its path (`/api/v1/...` is the core group). */
function groupOf(request: ProxiedRequest): string {
  const match = /^\/apis\/([^/]+)\//.exec(request.path);
  return match?.[1] ?? '';
}

describeOnPlane("the worker's Role against the real KubernetesSparkPlatform on the real API server (requests seen by the proxy)", () => {
  const cluster = useCluster();
  const requests: ProxiedRequest[] = [];
  /** Requests outside the scenario's own namespace. */
  const elsewhere: string[] = [];
  /** Runs a scenario and keeps every request the platform made (the operator stand-in writes around the proxy). */
  async function scenario(body: (c: Cluster) => Promise<void>, ...args: Parameters<typeof cluster>): Promise<void> {
    const c = await cluster(...args);
    try {
      await body(c);
    } finally {
      const made = c.proxy.requests();
      requests.push(...made);
      elsewhere.push(...made.filter((r) => r.resource !== undefined && r.namespace !== c.namespace).map((r) => `${r.method} ${r.path}`));
    }
  }

  test('success, adopted resubmission, executor OOM, application error and a janitor sweep', async () => {
    await scenario(async ({ platform, dir }) => {
      const request = await attemptRequest(dir);
      const handle = await platform.submit(request);
      await platform.submit(request); // 409s: the application and its spec ConfigMap are read and adopted
      expect((await platform.await(handle, awaitOptions())).kind).toBe('SUCCEEDED');
      expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    }, { scenario: 'success' });

    await scenario(async ({ platform, dir }) => {
      const request = await attemptRequest(dir);
      const outcome = await platform.await(await platform.submit(request), awaitOptions());
      expect(outcome).toMatchObject({ kind: 'OUT_OF_MEMORY', oomSide: 'executor' });
      expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    }, { scenario: { name: 'executor-oom', minExecutorMemoryMb: 2 * RESOURCES.executorMemoryMb } });

    await scenario(async ({ platform, dir }) => {
      const request = await attemptRequest(dir);
      const outcome = await platform.await(await platform.submit(request), awaitOptions());
      expect(outcome.kind).toBe('PERMANENT');
      expect((await platform.cleanup(request.attemptId)).remaining).toBe(0);
    }, { scenario: { name: 'application-error' } });

    await scenario(async ({ api, platform }) => {
      // Leftovers of every kind, of a closed night, as an interrupted cleanup leaves them. Written
      // as admin, around the proxy: only the sweep's requests are the worker's. The application
      // already has a state, so the operator stand-in leaves it alone.
      const workflowId = 'nightjar-daily-2026-11-20';
      const labels = attemptLabels({ workflowId, businessDate: '2026-11-20', job: 'normalize', attemptId: 'nj-20261120-normalize-leftover-a1', attempt: 1 });
      const metadata = (name: string) => ({ name, labels, annotations: { [Annotation.workflowId]: workflowId } });
      const app = await api.create('sparkapplications', {
        metadata: metadata('left-app'),
        spec: { type: 'Python', mode: 'cluster', sparkVersion: '4.0.1', mainApplicationFile: 'local:///opt/x.py', driver: { cores: 1, memory: '512m' }, executor: { cores: 1, memory: '512m', instances: 1 } },
      });
      await api.patchStatus('sparkapplications', app.metadata.name, { applicationState: { state: 'FAILED', errorMessage: 'left over' }, driverInfo: {} });
      await api.create('pods', { metadata: metadata('left-driver'), spec: { containers: [{ name: 'spark-kubernetes-driver', image: 'spark' }] } });
      await api.create('services', { metadata: metadata('left-svc'), spec: { clusterIP: 'None', ports: [{ name: 'driver-rpc-port', port: 7078 }] } });
      await api.create('configmaps', { metadata: metadata('left-spec'), data: { 'spec.json': '{}' } });
      await api.create('persistentvolumeclaims', { metadata: metadata('left-pvc'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
      const report = await platform.sweep(async () => 'CLOSED', { now: Date.now() + 24 * 3600_000, minAgeMs: 60_000 });
      expect(report.failed).toEqual([]);
      expect(report.removed.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Pod', 'Service', 'SparkApplication']);
    }, { scenario: 'success' });

    const used = new Set(requests.filter((r) => r.verb !== undefined && r.resource !== undefined).map((r) => permission(groupOf(r), r.resource as string, r.verb as string)));
    // Every request was in the Spark namespace (namespaced calls only, never cluster-wide lists).
    expect(elsewhere).toEqual([]);

    const role = granted(only(objects, 'Role', '-worker') as RoleObject);
    const usedButNotGranted = [...used].filter((p) => !role.has(p)).sort();
    const grantedButUnused = [...role].filter((p) => !used.has(p)).sort();
    expect({ usedButNotGranted, grantedButUnused }).toEqual({ usedButNotGranted: [], grantedButUnused: [] });
  });
});
