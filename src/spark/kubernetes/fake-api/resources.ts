/**
 * The resource types the fake API server serves, described the way the real API server's registry
 * describes them: the differences between them (status subresource, generation, what DELETE
 * answers, which field selectors exist) are exactly the ones clients trip over.
 */
export interface ResourceType {
  /** '' for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  /** Served like a CustomResourceDefinition (stricter type checks, no strategic merge patch). */
  readonly custom: boolean;
  /** Writes to the main resource leave `.status` alone; `/status` writes change nothing else. */
  readonly statusSubresource: boolean;
  /** `metadata.generation` starts at 1 and grows when the spec (anything but metadata and status) changes. */
  readonly tracksGeneration: boolean;
  /** DELETE answers with the object (pods) rather than a success Status (most others). */
  readonly returnsDeletedObject: boolean;
  /** Services need a DNS-1035 label; everything else here a DNS-1123 subdomain. */
  readonly nameRule: 'dns-1123-subdomain' | 'dns-1035-label';
  /** Field selectors beyond `metadata.name` and `metadata.namespace`. */
  readonly extraFieldSelectors: readonly string[];
  /** What `.status` becomes on create through the API (absent: dropped). */
  readonly initialStatus?: Readonly<Record<string, unknown>>;
}

export const SPARK_APPLICATIONS: ResourceType = {
  group: 'sparkoperator.k8s.io',
  version: 'v1beta2',
  plural: 'sparkapplications',
  singular: 'sparkapplication',
  kind: 'SparkApplication',
  listKind: 'SparkApplicationList',
  custom: true,
  statusSubresource: true,
  tracksGeneration: true,
  returnsDeletedObject: false,
  nameRule: 'dns-1123-subdomain',
  extraFieldSelectors: [],
};

const core = (spec: Omit<ResourceType, 'group' | 'version' | 'custom' | 'listKind'>): ResourceType => ({
  group: '',
  version: 'v1',
  custom: false,
  listKind: `${spec.kind}List`,
  ...spec,
});

export const PODS = core({
  plural: 'pods',
  singular: 'pod',
  kind: 'Pod',
  statusSubresource: true,
  tracksGeneration: true,
  returnsDeletedObject: true,
  nameRule: 'dns-1123-subdomain',
  extraFieldSelectors: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  initialStatus: { phase: 'Pending' },
});

export const SERVICES = core({
  plural: 'services',
  singular: 'service',
  kind: 'Service',
  statusSubresource: true,
  tracksGeneration: false,
  returnsDeletedObject: false,
  nameRule: 'dns-1035-label',
  extraFieldSelectors: ['spec.clusterIP', 'spec.type'],
  initialStatus: { loadBalancer: {} },
});

export const CONFIG_MAPS = core({
  plural: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  statusSubresource: false,
  tracksGeneration: false,
  returnsDeletedObject: false,
  nameRule: 'dns-1123-subdomain',
  extraFieldSelectors: [],
});

export const EVENTS = core({
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  statusSubresource: false,
  tracksGeneration: false,
  returnsDeletedObject: false,
  nameRule: 'dns-1123-subdomain',
  extraFieldSelectors: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
});

export const PERSISTENT_VOLUME_CLAIMS = core({
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  kind: 'PersistentVolumeClaim',
  statusSubresource: true,
  tracksGeneration: false,
  returnsDeletedObject: false,
  nameRule: 'dns-1123-subdomain',
  extraFieldSelectors: [],
  initialStatus: { phase: 'Pending' },
});

export const DEFAULT_RESOURCES: readonly ResourceType[] = [
  SPARK_APPLICATIONS,
  PODS,
  SERVICES,
  CONFIG_MAPS,
  EVENTS,
  PERSISTENT_VOLUME_CLAIMS,
];

export function apiVersionOf(resource: ResourceType): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** `pods`, `sparkapplications.sparkoperator.k8s.io`: how error messages name a resource. */
export function qualifiedResource(resource: ResourceType): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

/** `Pod`, `SparkApplication.sparkoperator.k8s.io`: how validation errors name a kind. */
export function qualifiedKind(resource: ResourceType): string {
  return resource.group === '' ? resource.kind : `${resource.kind}.${resource.group}`;
}
