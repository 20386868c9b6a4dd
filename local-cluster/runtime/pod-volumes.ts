/**
 * What a kubelet prepares before it starts a container: the pod's volumes as directories on this
 * machine (ConfigMaps, Secrets, the service account's projected token, emptyDirs, host paths and
 * hostPath/local PersistentVolumes), and the container's environment with its references resolved
 * (values, downward API, ConfigMap and Secret keys).
 *
 * A reference to something that does not exist yet (Spark creates the driver's ConfigMap right
 * after the driver pod) is a `NotReadyYet`: the kubelet tries again, as a real one does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CoreV1Api, V1Container, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { PathMapping } from './path-map';

/** A missing object or key the pod needs; the kubelet keeps the pod waiting and tries again. */
export class NotReadyYet extends Error {
  override readonly name = 'NotReadyYet';
  constructor(
    message: string,
    /** The waiting reason to report: the container cannot be configured, or its volumes not mounted. */
    readonly reason: 'ContainerCreating' | 'CreateContainerConfigError',
  ) {
    super(message);
  }
}

export interface VolumeContext {
  readonly core: CoreV1Api;
  readonly pod: V1Pod;
  /** The pod's own directory; volumes are created below it. */
  readonly podDir: string;
  /** The pod's address, for the downward API. */
  readonly podIP: string;
  readonly hostIP: string;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

async function orMissing<T>(
  what: string,
  optional: boolean | undefined,
  read: () => Promise<T>,
  reason: NotReadyYet['reason'] = 'ContainerCreating',
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    if (optional === true) return undefined;
    throw new NotReadyYet(`${what} not found`, reason);
  }
}

function writeItems(dir: string, data: Readonly<Record<string, string>>, items: readonly V1KeyToPath[] | undefined, what: string): void {
  mkdirSync(dir, { recursive: true });
  const wanted = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of wanted) {
    const value = data[item.key];
    if (value === undefined) throw new NotReadyYet(`${what} has no key ${item.key}`, 'ContainerCreating');
    const file = path.join(dir, item.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, value);
  }
}

function decodeSecret(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

/** The value of a downward-API field of the pod, or undefined for one this runtime does not know. */
export function podField(pod: V1Pod, fieldPath: string, podIP: string, hostIP: string): string | undefined {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (label !== null) return (label[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[label[2] as string];
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': podIP,
    'status.podIPs': podIP,
    'status.hostIP': hostIP,
    'status.hostIPs': hostIP,
  };
  return fields[fieldPath];
}

async function projectedVolume(ctx: VolumeContext, volume: V1Volume, dir: string): Promise<void> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  mkdirSync(dir, { recursive: true });
  for (const source of volume.projected?.sources ?? []) {
    if (source.serviceAccountToken !== undefined) {
      // A token bound to this pod, as the kubelet asks for one: invalid once the pod is gone.
      const token = await ctx.core.createNamespacedServiceAccountToken({
        name: ctx.pod.spec?.serviceAccountName ?? 'default',
        namespace,
        body: {
          spec: {
            audiences: source.serviceAccountToken.audience === undefined ? [] : [source.serviceAccountToken.audience],
            expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3600,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: ctx.pod.metadata?.name, uid: ctx.pod.metadata?.uid },
          },
        },
      });
      writeFileSync(path.join(dir, source.serviceAccountToken.path), token.status?.token ?? '');
    }
    if (source.configMap !== undefined) {
      const name = source.configMap.name ?? '';
      const cm = await orMissing(`ConfigMap ${namespace}/${name}`, source.configMap.optional, () => ctx.core.readNamespacedConfigMap({ name, namespace }));
      if (cm !== undefined) writeItems(dir, cm.data ?? {}, source.configMap.items, `ConfigMap ${name}`);
    }
    if (source.secret !== undefined) {
      const name = source.secret.name ?? '';
      const secret = await orMissing(`Secret ${namespace}/${name}`, source.secret.optional, () => ctx.core.readNamespacedSecret({ name, namespace }));
      if (secret !== undefined) writeItems(dir, decodeSecret(secret.data), source.secret.items, `Secret ${name}`);
    }
    for (const item of source.downwardAPI?.items ?? []) {
      const value = item.fieldRef === undefined ? undefined : podField(ctx.pod, item.fieldRef.fieldPath, ctx.podIP, ctx.hostIP);
      writeFileSync(path.join(dir, item.path), value ?? '');
    }
  }
}

async function persistentVolumePath(ctx: VolumeContext, claimName: string): Promise<string> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const claim = await orMissing(`PersistentVolumeClaim ${namespace}/${claimName}`, false, () => ctx.core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace }));
  const volumeName = claim?.spec?.volumeName;
  if (volumeName === undefined || volumeName === '') throw new NotReadyYet(`PersistentVolumeClaim ${claimName} is not bound`, 'ContainerCreating');
  const volume = await ctx.core.readPersistentVolume({ name: volumeName });
  const hostPath = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
  if (hostPath === undefined) throw new NotReadyYet(`PersistentVolume ${volumeName} is neither hostPath nor local: this runtime cannot mount it`, 'CreateContainerConfigError');
  return hostPath;
}

/**
 * Makes every volume of the pod a directory (or finds it) and returns where each volume is,
 * by volume name.
 */
export async function prepareVolumes(ctx: VolumeContext): Promise<Map<string, string>> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const dirs = new Map<string, string>();
  for (const volume of ctx.pod.spec?.volumes ?? []) {
    const dir = path.join(ctx.podDir, 'volumes', volume.name);
    if (volume.configMap !== undefined) {
      const name = volume.configMap.name ?? '';
      const cm = await orMissing(`ConfigMap ${namespace}/${name}`, volume.configMap.optional, () => ctx.core.readNamespacedConfigMap({ name, namespace }));
      writeItems(dir, cm?.data ?? {}, cm === undefined ? [] : volume.configMap.items, `ConfigMap ${name}`);
    } else if (volume.secret !== undefined) {
      const name = volume.secret.secretName ?? '';
      const secret = await orMissing(`Secret ${namespace}/${name}`, volume.secret.optional, () => ctx.core.readNamespacedSecret({ name, namespace }));
      writeItems(dir, decodeSecret(secret?.data), secret === undefined ? [] : volume.secret.items, `Secret ${name}`);
    } else if (volume.projected !== undefined) {
      await projectedVolume(ctx, volume, dir);
    } else if (volume.emptyDir !== undefined) {
      mkdirSync(dir, { recursive: true });
    } else if (volume.hostPath !== undefined) {
      dirs.set(volume.name, volume.hostPath.path);
      continue;
    } else if (volume.persistentVolumeClaim !== undefined) {
      dirs.set(volume.name, await persistentVolumePath(ctx, volume.persistentVolumeClaim.claimName));
      continue;
    } else {
      throw new NotReadyYet(`volume ${volume.name} is of a kind this runtime cannot mount`, 'CreateContainerConfigError');
    }
    dirs.set(volume.name, dir);
  }
  return dirs;
}

/** The container's mounts as path mappings (a `subPath` maps to the file or directory inside the volume). */
export function mountMappings(container: V1Container, volumeDirs: ReadonlyMap<string, string>): PathMapping[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const dir = volumeDirs.get(mount.name);
    if (dir === undefined) throw new NotReadyYet(`volume mount ${mount.name} names no volume of the pod`, 'CreateContainerConfigError');
    return { containerPath: mount.mountPath, hostPath: mount.subPath === undefined || mount.subPath === '' ? dir : path.join(dir, mount.subPath) };
  });
}

/** The container's environment as the pod defines it (`envFrom` first, then `env`, later wins; `$(VAR)` expanded). */
export async function containerEnv(ctx: VolumeContext, container: V1Container): Promise<Record<string, string>> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef !== undefined) {
      const name = from.configMapRef.name ?? '';
      const cm = await orMissing(`ConfigMap ${namespace}/${name}`, from.configMapRef.optional, () => ctx.core.readNamespacedConfigMap({ name, namespace }), 'CreateContainerConfigError');
      for (const [key, value] of Object.entries(cm?.data ?? {})) env[`${from.prefix ?? ''}${key}`] = value;
    }
    if (from.secretRef !== undefined) {
      const name = from.secretRef.name ?? '';
      const secret = await orMissing(`Secret ${namespace}/${name}`, from.secretRef.optional, () => ctx.core.readNamespacedSecret({ name, namespace }), 'CreateContainerConfigError');
      for (const [key, value] of Object.entries(decodeSecret(secret?.data))) env[`${from.prefix ?? ''}${key}`] = value;
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    } else if (from.fieldRef !== undefined) {
      env[variable.name] = podField(ctx.pod, from.fieldRef.fieldPath, ctx.podIP, ctx.hostIP) ?? '';
    } else if (from.secretKeyRef !== undefined) {
      const ref = from.secretKeyRef;
      const secret = await orMissing(`Secret ${namespace}/${ref.name ?? ''}`, ref.optional, () => ctx.core.readNamespacedSecret({ name: ref.name ?? '', namespace }), 'CreateContainerConfigError');
      const value = decodeSecret(secret?.data)[ref.key];
      if (value === undefined && ref.optional !== true) throw new NotReadyYet(`Secret ${ref.name ?? ''} has no key ${ref.key} (env ${variable.name})`, 'CreateContainerConfigError');
      if (value !== undefined) env[variable.name] = value;
    } else if (from.configMapKeyRef !== undefined) {
      const ref = from.configMapKeyRef;
      const cm = await orMissing(`ConfigMap ${namespace}/${ref.name ?? ''}`, ref.optional, () => ctx.core.readNamespacedConfigMap({ name: ref.name ?? '', namespace }), 'CreateContainerConfigError');
      const value = cm?.data?.[ref.key];
      if (value === undefined && ref.optional !== true) throw new NotReadyYet(`ConfigMap ${ref.name ?? ''} has no key ${ref.key} (env ${variable.name})`, 'CreateContainerConfigError');
      if (value !== undefined) env[variable.name] = value;
    } else if (from.resourceFieldRef !== undefined) {
      const resource = from.resourceFieldRef.resource;
      const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
      env[variable.name] = container.resources?.[kind]?.[name] ?? '';
    }
  }
  return env;
}
