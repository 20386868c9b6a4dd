import { apiVersionOf, type ResourceType } from './resources';

// Discovery documents, enough for clients that look a resource up before using it
// (client-node's KubernetesObjectApi does).

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(resources: readonly ResourceType[]): unknown {
  const groups = [...new Set(resources.filter((r) => r.group !== '').map((r) => apiVersionOf(r)))].map((groupVersion) => {
    const [name = '', version = ''] = groupVersion.split('/');
    return { name, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
  });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(resources: readonly ResourceType[], group: string): unknown | undefined {
  const versions = [...new Set(resources.filter((r) => r.group === group).map((r) => r.version))];
  const preferred = versions[0];
  if (!preferred) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
    preferredVersion: { groupVersion: `${group}/${preferred}`, version: preferred },
  };
}

export function apiResourceList(resources: readonly ResourceType[], group: string, version: string): unknown | undefined {
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: served.flatMap((r) => [
      { name: r.plural, singularName: r.singular, namespaced: true, kind: r.kind, verbs: VERBS },
      ...(r.statusSubresource ? [{ name: `${r.plural}/status`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ]),
  };
}

export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-nightjar-fake',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '1970-01-01T00:00:00Z',
  goVersion: '',
  compiler: 'gc',
  platform: 'linux/amd64',
};
