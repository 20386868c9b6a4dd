/**
 * The labels that tie every Kubernetes object of a Spark attempt (the SparkApplication, its
 * driver and executor pods) back to the Nightjar run that made it, so that a retried activity,
 * a cleanup or an operator with `kubectl get -l` finds them by selector, never by name guessing.
 * Pure: no I/O.
 */
import type { SparkAttemptRequest } from '../platform';

export const LABEL_PREFIX = 'nightjar.io/';

export const LabelKey = {
  workflowId: `${LABEL_PREFIX}workflow-id`,
  businessDate: `${LABEL_PREFIX}business-date`,
  job: `${LABEL_PREFIX}job`,
  attemptId: `${LABEL_PREFIX}attempt-id`,
  attempt: `${LABEL_PREFIX}attempt`,
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const MANAGED_BY = 'nightjar';

/** Annotations carry what labels cannot hold whole (a workflow id may exceed 63 characters). */
export const Annotation = {
  workflowId: `${LABEL_PREFIX}workflow-id`,
  attemptId: `${LABEL_PREFIX}attempt-id`,
} as const;

/** Kubernetes label values: at most 63 characters, alphanumeric ends, `-_.` inside (or empty). */
export const MAX_LABEL_VALUE = 63;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)?$/;
const HASH_HEX = 10;

export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL_VALUE && LABEL_VALUE.test(value);
}

/**
 * `raw` as a valid label value. Valid values pass unchanged. Anything else is sanitized,
 * shortened and suffixed with a hash of the original, so two different inputs never collapse
 * into the same label (which would make a selector match another run's objects) and the same
 * input always gives the same label.
 */
export function toLabelValue(raw: string): string {
  if (isValidLabelValue(raw)) return raw;
  const hash = fnv1a64Hex(raw).slice(0, HASH_HEX);
  const head = raw
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, MAX_LABEL_VALUE - HASH_HEX - 1)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return head.length === 0 ? hash : `${head}-${hash}`;
}

export type AttemptIdentity = Pick<SparkAttemptRequest, 'workflowId' | 'businessDate' | 'job' | 'attemptId' | 'attempt'>;

/** Every label Nightjar puts on the objects of one attempt. */
export function attemptLabels(identity: AttemptIdentity): Record<string, string> {
  return {
    [LabelKey.managedBy]: MANAGED_BY,
    [LabelKey.workflowId]: toLabelValue(identity.workflowId),
    [LabelKey.businessDate]: toLabelValue(identity.businessDate),
    [LabelKey.job]: toLabelValue(identity.job),
    [LabelKey.attemptId]: toLabelValue(identity.attemptId),
    [LabelKey.attempt]: toLabelValue(String(identity.attempt)),
  };
}

/** Label selector for everything one attempt created. */
export function attemptSelector(attemptId: string): string {
  return `${managedSelector()},${LabelKey.attemptId}=${toLabelValue(attemptId)}`;
}

/** Label selector for everything Nightjar manages (e.g. to find leaked objects). */
export function managedSelector(): string {
  return `${LabelKey.managedBy}=${MANAGED_BY}`;
}

/**
 * 64-bit FNV-1a over the string's UTF-16 code units, as hex. Not cryptographic: only needs to
 * be deterministic everywhere (no Node crypto, so it also runs in the workflow sandbox) and
 * spread well enough that distinct long values keep distinct labels.
 */
function fnv1a64Hex(text: string): string {
  const MASK = (1n << 64n) - 1n;
  const PRIME = 0x100000001b3n;
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * PRIME) & MASK;
  }
  return hash.toString(16).padStart(16, '0');
}
