import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * The two Prometheus-operator kinds the chart creates (ServiceMonitor, PrometheusRule), as CRDs for
 * the local control plane. No registry reachable here carries the operator's own CRDs, so these
 * check the envelope only (group, version, kind, namespace, metadata): their spec is kept as sent.
 * The chart's content for them is checked by the deploy tests that render it.
 */
export function monitoringCrds(): KubernetesObject[] {
  const kinds = [
    { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor' },
    { kind: 'PrometheusRule', plural: 'prometheusrules', singular: 'prometheusrule' },
  ];
  return kinds.map(({ kind, plural, singular }) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      names: { kind, listKind: `${kind}List`, plural, singular },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          },
        },
      ],
    },
  })) as KubernetesObject[];
}
