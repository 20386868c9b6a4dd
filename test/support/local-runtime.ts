/**
 * A local container runtime for one test file on the shared plane: it runs only the pods that
 * carry its own runtime label value (so it never takes another run's pods) in the namespaces it
 * is given, and serves their logs to the API server's `pods/log` on a port of its own.
 */
import path from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { LocalKubelet, RUNTIME_LABEL } from '../../local-cluster/runtime/local-kubelet';
import { LogServer } from '../../local-cluster/runtime/log-server';
import { imageDefaults } from '../../local-cluster/runtime/spark-install';

export { RUNTIME_LABEL };

/** The chart's driver Role, bound to the driver's account: what Spark's scheduler backend does with its executors. */
export async function grantSparkDriverRole(kc: KubeConfig, namespace: string, serviceAccount = 'nightjar-spark'): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: 'spark-driver' },
      rules: [
        { apiGroups: [''], resources: ['pods', 'configmaps', 'persistentvolumeclaims'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'watch'] },
        { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'deletecollection', 'get'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['create', 'delete', 'get'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'spark-driver' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'spark-driver' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  });
}

export interface TestRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  readonly repoRoot: string;
  readonly stateDir: string;
  /** This runtime's `nightjar.io/runtime` value. */
  readonly labelValue: string;
  readonly namespaces: readonly string[];
  /** Where its log server listens (10251 + a number of one's own on a shared plane); none when omitted. */
  readonly logPort?: number;
  /** Extra image directories (e.g. a test image's jobs) mapped onto this machine. */
  readonly imagePaths?: readonly { containerPath: string; hostPath: string }[];
  readonly imageEnv?: Readonly<Record<string, string>>;
}

export interface TestRuntime {
  readonly kubelet: LocalKubelet;
  /** The label every pod this runtime should run must carry. */
  readonly podLabels: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const image = imageDefaults(options.repoRoot);
  const kubelet = new LocalKubelet({
    kubeConfig: options.kubeConfig,
    stateDir: options.stateDir,
    ...image,
    imagePaths: [...image.imagePaths, ...(options.imagePaths ?? [])],
    imageEnv: { ...image.imageEnv, ...options.imageEnv },
    labelValue: options.labelValue,
    namespaces: options.namespaces,
    logger: pino({ enabled: false }),
  });
  await kubelet.start();
  let logs: LogServer | undefined;
  if (options.logPort !== undefined) {
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    logs = new LogServer({
      kubeConfig: options.kubeConfig,
      port: options.logPort,
      stateDir: path.join(options.stateDir),
      logPath: (namespace, pod, container) => kubelet.logPath(namespace, pod, container),
      nodes: async () => (await core.listNode()).items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake').map((n) => n.metadata?.name ?? ''),
    });
    await logs.start();
  }
  return {
    kubelet,
    podLabels: { [RUNTIME_LABEL]: options.labelValue },
    async stop() {
      await logs?.stop();
      await kubelet.stop();
    },
  };
}
