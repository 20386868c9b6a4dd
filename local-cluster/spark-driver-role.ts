/**
 * The Spark driver's rights in a namespace of the local plane, as the chart grants them
 * (deploy/helm/nightjar/templates/rbac.yaml): what Spark's Kubernetes scheduler backend does with
 * its executors — executor pods, their ConfigMap, on-demand PVCs, the driver's headless Service.
 * Demo and test support for spark-submit mode, where the driver creates its executors itself.
 */
import { ApiException, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';

export const SPARK_DRIVER_ROLE = 'nightjar-spark-driver';

/** Creates the Role and its binding to the drivers' ServiceAccount; both may already exist. */
export async function ensureSparkDriverRole(kc: KubeConfig, namespace: string, serviceAccount = 'nightjar-spark'): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const exists = (error: unknown) => error instanceof ApiException && error.code === 409;
  await rbac
    .createNamespacedRole({
      namespace,
      body: {
        metadata: { name: SPARK_DRIVER_ROLE },
        rules: [
          { apiGroups: [''], resources: ['pods', 'configmaps', 'persistentvolumeclaims'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'watch'] },
          { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'deletecollection', 'get'] },
        ],
      },
    })
    .catch((error: unknown) => {
      if (!exists(error)) throw error;
    });
  await rbac
    .createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: SPARK_DRIVER_ROLE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SPARK_DRIVER_ROLE },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
      },
    })
    .catch((error: unknown) => {
      if (!exists(error)) throw error;
    });
}
