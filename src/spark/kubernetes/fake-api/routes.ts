import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery';
import type { KubeVerb } from './faults';
import type { ResourceType } from './resources';

export interface ResourceRoute {
  readonly kind: 'resource';
  readonly resource: ResourceType;
  /** Undefined for the all-namespaces collection (`/api/v1/pods`). */
  readonly namespace?: string;
  readonly name?: string;
  /** `status` where the resource has one; `log` of pods (read-only, plain text). */
  readonly subresource?: Subresource;
  /** The deprecated `/watch/` path prefix. */
  readonly legacyWatch: boolean;
}

export type Route =
  | ResourceRoute
  | { readonly kind: 'document'; readonly body: unknown }
  | { readonly kind: 'text'; readonly body: string }
  | { readonly kind: 'unknown' };

export type Subresource = 'status' | 'log';

const UNKNOWN: Route = { kind: 'unknown' };

function subresourceOf(resource: ResourceType, subresource: string): Subresource | undefined {
  if (subresource === 'status' && resource.statusSubresource) return 'status';
  if (subresource === 'log' && resource.group === '' && resource.plural === 'pods') return 'log';
  return undefined;
}

function resourceRoute(resources: readonly ResourceType[], group: string, version: string, rest: string[]): Route {
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  let plural: string | undefined;
  let name: string | undefined;
  let subresource: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest.length <= 5) {
    [, namespace, plural, name, subresource] = rest;
  } else if (rest.length === 1) {
    [plural] = rest;
  } else {
    return UNKNOWN;
  }
  const resource = resources.find((r) => r.group === group && r.version === version && r.plural === plural);
  if (!resource) return UNKNOWN;
  const served = subresource === undefined ? undefined : subresourceOf(resource, subresource);
  if (subresource !== undefined && (served === undefined || legacyWatch)) return UNKNOWN;
  return {
    kind: 'resource',
    resource,
    legacyWatch,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(served === undefined ? {} : { subresource: served }),
  };
}

export function resolveRoute(pathname: string, resources: readonly ResourceType[], serverAddress: string): Route {
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return UNKNOWN;
  }
  const [first, second, third] = segments;
  if (segments.length === 1 && first === 'version') return { kind: 'document', body: VERSION_INFO };
  if (segments.length === 1 && (first === 'healthz' || first === 'livez' || first === 'readyz')) return { kind: 'text', body: 'ok' };
  if (first === 'api') {
    if (segments.length === 1) return { kind: 'document', body: apiVersions(serverAddress) };
    if (second !== 'v1') return UNKNOWN;
    if (segments.length === 2) {
      const list = apiResourceList(resources, '', 'v1');
      return list ? { kind: 'document', body: list } : UNKNOWN;
    }
    return resourceRoute(resources, '', 'v1', segments.slice(2));
  }
  if (first === 'apis') {
    if (segments.length === 1) return { kind: 'document', body: apiGroupList(resources) };
    if (second === undefined) return UNKNOWN;
    if (segments.length === 2) {
      const group = apiGroup(resources, second);
      return group ? { kind: 'document', body: group } : UNKNOWN;
    }
    if (third === undefined) return UNKNOWN;
    if (segments.length === 3) {
      const list = apiResourceList(resources, second, third);
      return list ? { kind: 'document', body: list } : UNKNOWN;
    }
    return resourceRoute(resources, second, third, segments.slice(3));
  }
  return UNKNOWN;
}

export function isWatchRequest(route: ResourceRoute, query: URLSearchParams): boolean {
  const watch = query.get('watch');
  return route.legacyWatch || watch === 'true' || watch === '1';
}

/** The Kubernetes verb of a request on a resource path, or undefined when the method is not allowed there. */
export function verbOf(method: string, route: ResourceRoute, query: URLSearchParams): KubeVerb | undefined {
  const item = route.name !== undefined;
  // The log is only ever read, whatever the query says.
  if (route.subresource === 'log') return method === 'GET' && item ? 'get' : undefined;
  switch (method) {
    case 'GET':
      if (route.legacyWatch) return route.subresource ? undefined : 'watch';
      // `?watch=true` on a named object watches that one object, as the API server still allows.
      if (item) return isWatchRequest(route, query) && !route.subresource ? 'watch' : 'get';
      return isWatchRequest(route, query) ? 'watch' : 'list';
    case 'POST':
      return !item && route.namespace !== undefined ? 'create' : undefined;
    case 'PUT':
      return item ? 'update' : undefined;
    case 'PATCH':
      return item ? 'patch' : undefined;
    case 'DELETE':
      if (item) return route.subresource ? undefined : 'delete';
      return route.namespace !== undefined ? 'deletecollection' : undefined;
    default:
      return undefined;
  }
}
