export { FakeKubeApiServer, type FakeKubeApiServerOptions } from './server';
export { ClusterStore, type ClusterEvent, type ClusterListener } from './cluster-store';
export { PodLogs, type PodLogQuery } from './pod-logs';
export {
  FaultInjector,
  type ConnectionResetFault,
  type FaultLifetime,
  type FaultMatch,
  type KubeVerb,
  type StatusFault,
} from './faults';
export type { RecordedRequest } from './request-log';
export type { WatchEventType } from './object-store';
export {
  FOREGROUND_DELETION_FINALIZER,
  type KubeObject,
  type ObjectMeta,
  type OwnerReference,
  type PropagationPolicy,
  type StoredObject,
} from './kube-object';
export {
  CONFIG_MAPS,
  DEFAULT_RESOURCES,
  EVENTS,
  PERSISTENT_VOLUME_CLAIMS,
  PODS,
  SERVICES,
  SPARK_APPLICATIONS,
  type ResourceType,
} from './resources';
export { KubeApiError, type KubeStatus, type StatusCause, type StatusDetails } from './status';
export { matchesLabels, parseLabelSelector, type LabelRequirement, type LabelSelector } from './label-selector';
