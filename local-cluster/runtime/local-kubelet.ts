/**
 * A kubelet for the local plane's fake nodes: every pod labelled `nightjar.io/runtime=local` that
 * the scheduler bound to a node runs here as local processes (kwok leaves those pods alone).
 * Spark's driver and executor containers become the JVMs of the pyspark install; the pod gets its
 * own loopback address (127.77.x.y) as `status.podIP`, its volumes as directories, its env with the
 * downward API resolved, and a memory cgroup with the pod's limit when the machine has cgroup v1.
 * Status goes back through the API as a kubelet writes it: Pending (waiting, with the reason) →
 * Running → Succeeded/Failed with the exit code and `terminated.reason` (Completed, Error,
 * OOMKilled). Deleting a pod kills its process group; stopping the runtime kills them all.
 *
 * A node can be lost (`loseNode`), as a machine that goes down: the processes of its pods die
 * with SIGKILL and its kubelet goes silent — nothing more is written about those pods and no new
 * pod bound to it starts. The control plane learns of it only as of a real lost node, from the
 * node's status and the eviction of its pods; `restoreNode` brings a machine back for new pods.
 *
 * Names: there is no cluster DNS. Every JVM gets `-Djdk.net.hosts.file=<state>/hosts`, a hosts file
 * this runtime keeps with each Service of a namespace it serves (`name`, `name.ns`, `name.ns.svc`,
 * `name.ns.svc.cluster.local`) pointing at the address of the local pod its selector matches, so
 * Spark's executors reach the driver by its headless Service name as they do in a cluster.
 *
 * Demo and test support only: this is not part of what Nightjar ships.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type ObjectCache,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodStatus,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { MemoryCgroup, memoryCgroupAvailable, quantityToBytes, DEFAULT_MEMORY_ROOT } from './memory-cgroup';
import { PathMap, type PathMapping } from './path-map';
import { NotReadyYet, containerEnv, mountMappings, prepareVolumes } from './pod-volumes';
import { ContainerStartError, containerCommand, type SparkInstall } from './spark-entrypoint';

export const RUNTIME_LABEL = 'nightjar.io/runtime';
export const RUNTIME_LABEL_VALUE = 'local';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const HOST_IP = '127.0.0.1';
const CGROUP_PARENT = 'nightjar-local-runtime';

export interface LocalKubeletOptions {
  readonly kubeConfig: KubeConfig;
  /** Pod directories, logs and the hosts file live here. */
  readonly stateDir: string;
  readonly install: SparkInstall;
  /** Image directories on this machine, e.g. `/opt/nightjar/spark` → the checkout's `spark/`. */
  readonly imagePaths: readonly PathMapping[];
  /** Put first on every container's PATH (the virtualenv's `bin`, so `python3` has pyspark). */
  readonly pathPrefix: readonly string[];
  /** The image's own environment (its ENV lines), container paths allowed; the pod's env wins. */
  readonly imageEnv?: Readonly<Record<string, string>>;
  /** Serve only pods bound to these nodes; every node when omitted. */
  readonly nodes?: readonly string[];
  /**
   * The value of the runtime label this runtime takes (default `local`). kwok leaves every pod
   * with the label alone, whatever its value: a test's own runtime takes only its own value, so a
   * runtime started for the demo never runs a test's pods, nor the other way round.
   */
  readonly labelValue?: string;
  /** Serve only pods of these namespaces (tests running side by side); every namespace when omitted. */
  readonly namespaces?: readonly string[];
  /** `false` turns memory enforcement by cgroup off; default: the v1 memory hierarchy if writable. */
  readonly memoryCgroupRoot?: string | false;
  /** Second octet of the pod addresses (127.<n>.x.y). Default 77. */
  readonly addressOctet?: number;
  /** Grace given to a deleted pod's processes before SIGKILL, at most. Default 5 000 ms. */
  readonly maxGraceMs?: number;
  readonly logger: Logger;
}

export type MemoryEnforcement = 'cgroup-v1' | 'jvm-heap';

interface RunningPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly podDir: string;
  readonly containerName: string;
  readonly node: string;
  child?: ChildProcess;
  cgroup?: MemoryCgroup;
  exited?: Promise<void>;
  deleted: boolean;
  /** Its node was lost: its kubelet reports nothing more about it. */
  lost: boolean;
  startedAt?: Date;
  killTimer?: NodeJS.Timeout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGABRT: 6, SIGSEGV: 11, SIGHUP: 1 };

export class LocalKubelet {
  private readonly core: CoreV1Api;
  private readonly pods = new Map<string, RunningPod>();
  private readonly usedAddresses = new Set<string>();
  private readonly lostNodes = new Set<string>();
  private readonly memoryRoot: string | undefined;
  private informer?: Informer<V1Pod> & ObjectCache<V1Pod>;
  private stopped = false;
  private restartDelayMs = 250;
  private readonly server: string;

  constructor(private readonly options: LocalKubeletOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    const root = options.memoryCgroupRoot === undefined ? DEFAULT_MEMORY_ROOT : options.memoryCgroupRoot;
    this.memoryRoot = root !== false && memoryCgroupAvailable(root) ? root : undefined;
    const cluster = options.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server;
  }

  private get labelValue(): string {
    return this.options.labelValue ?? RUNTIME_LABEL_VALUE;
  }

  /** How pod memory limits are enforced on this machine. */
  get memoryEnforcement(): MemoryEnforcement {
    return this.memoryRoot === undefined ? 'jvm-heap' : 'cgroup-v1';
  }

  get hostsFile(): string {
    return path.join(this.options.stateDir, 'hosts');
  }

  /** Where a container's output goes (the runtime's stand-in for the kubelet's log files). */
  logPath(namespace: string, pod: string, container: string): string {
    return path.join(this.options.stateDir, 'logs', namespace, pod, `${container}.log`);
  }

  /** The pods whose processes run now, as `namespace/name`. */
  runningPods(): string[] {
    return [...this.pods.values()].filter((p) => p.child !== undefined && p.child.exitCode === null && p.child.signalCode === null).map((p) => `${p.namespace}/${p.name}`);
  }

  /**
   * The node's machine goes down: every process of its pods is killed with SIGKILL and its kubelet
   * stops reporting (their pods stay as last written until the control plane evicts them), and no
   * pod bound to it starts until `restoreNode`. Returns the pods whose processes were killed, as
   * `namespace/name`.
   */
  loseNode(node: string): string[] {
    this.lostNodes.add(node);
    const killed: string[] = [];
    for (const entry of this.pods.values()) {
      if (entry.node !== node) continue;
      entry.lost = true;
      if (entry.child !== undefined && entry.child.exitCode === null && entry.child.signalCode === null) killed.push(`${entry.namespace}/${entry.name}`);
      this.signal(entry, 'SIGKILL');
    }
    this.options.logger.warn({ node, killed }, 'node lost: its pods\' processes killed, its kubelet silent');
    return killed;
  }

  /** A lost node's machine is back: pods bound to it from now on run again. */
  restoreNode(node: string): void {
    this.lostNodes.delete(node);
  }

  async start(): Promise<void> {
    mkdirSync(this.options.stateDir, { recursive: true });
    this.writeHosts([]);
    const selector = `${RUNTIME_LABEL}=${this.labelValue}`;
    const informer = makeInformer(this.options.kubeConfig, '/api/v1/pods', () => this.core.listPodForAllNamespaces({ labelSelector: selector }), selector);
    informer.on('add', (pod) => this.onPod(pod));
    informer.on('update', (pod) => this.onPod(pod));
    informer.on('delete', (pod) => this.onDeleted(pod));
    informer.on('error', (error) => {
      if (this.stopped) return;
      this.options.logger.warn({ err: error, retryInMs: this.restartDelayMs }, 'pod watch failed; restarting');
      const delay = this.restartDelayMs;
      this.restartDelayMs = Math.min(this.restartDelayMs * 2, 10_000);
      setTimeout(() => {
        if (!this.stopped) void informer.start().catch(() => undefined);
      }, delay).unref();
    });
    informer.on('connect', () => {
      this.restartDelayMs = 250;
    });
    this.informer = informer;
    await informer.start();
    this.options.logger.info({ memoryEnforcement: this.memoryEnforcement, stateDir: this.options.stateDir }, 'local container runtime started');
  }

  /** Kills every process it started, removes the cgroups and stops watching. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
    const all = [...this.pods.values()];
    for (const pod of all) this.signal(pod, 'SIGKILL');
    await Promise.all(all.map((pod) => pod.exited));
    for (const pod of all) this.forget(pod);
    if (this.memoryRoot !== undefined) {
      try {
        rmdirSync(path.join(this.memoryRoot, CGROUP_PARENT, this.labelValue));
        rmdirSync(path.join(this.memoryRoot, CGROUP_PARENT));
      } catch {
        // Never made, or a group of a process that would not die is left (logged by the caller's check).
      }
    }
  }

  /** Synchronous last resort for process exit: SIGKILL to every process group it started. */
  killAllNow(): void {
    for (const pod of this.pods.values()) this.signal(pod, 'SIGKILL');
  }

  private serves(pod: V1Pod): boolean {
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') return false;
    if (pod.metadata?.labels?.[RUNTIME_LABEL] !== this.labelValue) return false;
    if (this.options.namespaces !== undefined && !this.options.namespaces.includes(pod.metadata.namespace ?? '')) return false;
    return this.options.nodes === undefined || this.options.nodes.includes(node);
  }

  private onPod(pod: V1Pod): void {
    if (this.stopped || !this.serves(pod)) return;
    const uid = pod.metadata?.uid ?? '';
    const known = this.pods.get(uid);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      if (known !== undefined) this.terminate(known, (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
      return;
    }
    if (known !== undefined) return;
    // A lost machine's kubelet starts nothing (the pod stays Pending until the plane evicts it).
    if (this.lostNodes.has(pod.spec?.nodeName ?? '')) return;
    const phase = pod.status?.phase;
    // A pod that ended, or that ran under an earlier runtime process (its processes died with it).
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (pod.status?.podIP !== undefined && pod.status.podIP !== '') {
      void this.patchStatus(pod, this.terminatedStatus(pod, undefined, 137, 'Error', 'the local container runtime restarted; the container was lost')).catch(() => undefined);
      return;
    }
    this.run(pod).catch((error: unknown) => this.options.logger.error({ err: error, pod: pod.metadata?.name }, 'running a pod failed'));
  }

  private onDeleted(pod: V1Pod): void {
    const known = this.pods.get(pod.metadata?.uid ?? '');
    if (known === undefined) return;
    this.terminate(known, 0);
  }

  private allocateAddress(): string {
    const octet = this.options.addressOctet ?? 77;
    for (let n = 2; n < 65_000; n++) {
      const ip = `127.${octet}.${Math.floor(n / 256)}.${n % 256}`;
      if (n % 256 === 0 || n % 256 === 255 || this.usedAddresses.has(ip)) continue;
      this.usedAddresses.add(ip);
      return ip;
    }
    throw new Error('no free pod address');
  }

  private async run(pod: V1Pod): Promise<void> {
    const meta = pod.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const name = meta.name ?? '';
    const containers = pod.spec?.containers ?? [];
    const container = containers[0];
    if (container === undefined) return;
    const entry: RunningPod = {
      uid: meta.uid ?? '',
      namespace,
      name,
      ip: this.allocateAddress(),
      labels: meta.labels ?? {},
      podDir: path.join(this.options.stateDir, 'pods', `${namespace}_${name}_${meta.uid ?? ''}`),
      containerName: container.name,
      node: pod.spec?.nodeName ?? '',
      deleted: false,
      lost: false,
    };
    this.pods.set(entry.uid, entry);
    mkdirSync(entry.podDir, { recursive: true });
    const log = this.options.logger.child({ pod: `${namespace}/${name}`, node: pod.spec?.nodeName, ip: entry.ip });
    if (containers.length > 1) {
      await this.patchStatus(pod, this.waitingStatus(pod, entry, 'CreateContainerConfigError', 'the local container runtime runs pods of one container only'));
      return;
    }
    let lastWaiting = '';
    for (;;) {
      if (entry.deleted || entry.lost || this.stopped) return;
      try {
        await this.startContainer(pod, entry, log);
        return;
      } catch (error) {
        const reason = error instanceof NotReadyYet ? error.reason : error instanceof ContainerStartError ? 'CreateContainerConfigError' : 'ContainerCreating';
        const message = error instanceof Error ? error.message : String(error);
        if (`${reason}:${message}` !== lastWaiting) {
          lastWaiting = `${reason}:${message}`;
          log.info({ reason, message }, 'container not started yet');
          await this.patchStatus(pod, this.waitingStatus(pod, entry, reason, message)).catch(() => undefined);
        }
        await sleep(1000);
      }
    }
  }

  private async startContainer(pod: V1Pod, entry: RunningPod, log: Logger): Promise<void> {
    const container = (pod.spec?.containers ?? [])[0];
    if (container === undefined) return;
    const ctx = { core: this.core, pod, podDir: entry.podDir, podIP: entry.ip, hostIP: HOST_IP };
    const volumeDirs = await prepareVolumes(ctx);
    const mounts = mountMappings(container, volumeDirs);
    const paths = new PathMap([...this.options.imagePaths, ...mounts]);
    // Text files mounted from ConfigMaps (spark.properties) name container paths too.
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.configMap === undefined) continue;
      const dir = volumeDirs.get(volume.name);
      if (dir !== undefined) rewriteFiles(dir, paths);
    }
    const podEnv = { ...this.options.imageEnv, ...(await containerEnv(ctx, container)) };
    const mapped = Object.fromEntries(Object.entries(podEnv).map(([key, value]) => [key, paths.map(value)]));
    const apiUrl = new URL(this.server);
    const env: Record<string, string> = {
      PATH: [...this.options.pathPrefix, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: entry.podDir,
      LANG: 'C.UTF-8',
      JAVA_HOME: path.dirname(path.dirname(this.options.install.java)),
      KUBERNETES_SERVICE_HOST: apiUrl.hostname,
      KUBERNETES_SERVICE_PORT: apiUrl.port === '' ? '443' : apiUrl.port,
      HOSTNAME: entry.name,
      ...mapped,
      SPARK_HOME: this.options.install.sparkHome,
      JAVA_TOOL_OPTIONS: [`-Djdk.net.hosts.file=${this.hostsFile}`, mapped.JAVA_TOOL_OPTIONS ?? ''].join(' ').trim(),
    };
    const serviceAccount = mounts.find((m) => m.containerPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_DIR);
    const driverConf: Record<string, string> = { 'spark.kubernetes.driver.master': this.server };
    if (serviceAccount !== undefined) {
      driverConf['spark.kubernetes.authenticate.driver.mounted.oauthTokenFile'] = path.join(serviceAccount.hostPath, 'token');
      driverConf['spark.kubernetes.authenticate.driver.mounted.caCertFile'] = path.join(serviceAccount.hostPath, 'ca.crt');
    }
    const command = containerCommand(
      container.command?.map((arg) => paths.map(arg)),
      container.args?.map((arg) => paths.map(arg)),
      env,
      this.options.install,
      driverConf,
    );
    await this.refreshHosts(entry.namespace);
    if (entry.lost || entry.deleted) return;
    const limit = quantityToBytes(container.resources?.limits?.memory);
    if (this.memoryRoot !== undefined && limit !== undefined) entry.cgroup = MemoryCgroup.create(this.memoryRoot, path.join(CGROUP_PARENT, this.labelValue), entry.uid, limit);
    const logFile = this.logPath(entry.namespace, entry.name, container.name);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = openSync(logFile, 'a');
    // The shell puts itself into the pod's cgroup before it becomes the container's process, so
    // nothing the container allocates escapes the limit.
    const [file, args] =
      entry.cgroup === undefined ? [command.file, command.args] : ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', entry.cgroup.procsFile, command.file, ...command.args]];
    const cwd = container.workingDir === undefined ? entry.podDir : paths.map(container.workingDir);
    const child = spawn(file, args as string[], { cwd, env, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    entry.child = child;
    entry.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const startedAt = new Date();
    entry.startedAt = startedAt;
    child.once('error', (error) => log.error({ err: error }, 'container process could not start'));
    child.once('exit', (code, signal) => {
      void this.onExit(pod, entry, code, signal, log);
    });
    log.info({ pid: child.pid, command: path.basename(command.file), role: container.args?.[0], memoryLimit: limit, enforcement: entry.cgroup === undefined ? 'jvm-heap' : 'cgroup-v1' }, 'container started');
    await this.patchStatus(pod, this.runningStatus(pod, entry, startedAt, child.pid ?? 0));
    // The driver's address is known now: its Service name resolves for the executors it asks for.
    await this.refreshHosts(entry.namespace);
  }

  private async onExit(pod: V1Pod, entry: RunningPod, code: number | null, signal: NodeJS.Signals | null, log: Logger): Promise<void> {
    clearTimeout(entry.killTimer);
    const exitCode = code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0);
    const oomKilled = entry.cgroup !== undefined && entry.cgroup.oomKills() > 0 && exitCode === 137;
    const reason = oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    // The container's children (Python workers) go with it.
    this.signal(entry, 'SIGKILL');
    log.info({ exitCode, reason, deleted: entry.deleted }, 'container exited');
    if (!entry.deleted && !entry.lost) {
      await this.patchStatus(pod, this.terminatedStatus(pod, entry, exitCode, reason, oomKilled ? 'the container exceeded its memory limit' : undefined)).catch((error: unknown) =>
        log.warn({ err: error }, 'could not report the container exit'),
      );
    }
    await entry.exited;
    if (entry.cgroup !== undefined) for (let i = 0; i < 20 && !entry.cgroup.remove(); i++) await sleep(100);
  }

  private terminate(entry: RunningPod, graceMs: number): void {
    if (entry.deleted) return;
    entry.deleted = true;
    const grace = Math.min(graceMs, this.options.maxGraceMs ?? 5000);
    this.signal(entry, grace === 0 ? 'SIGKILL' : 'SIGTERM');
    if (grace > 0) entry.killTimer = setTimeout(() => this.signal(entry, 'SIGKILL'), grace);
    void (async () => {
      await entry.exited;
      clearTimeout(entry.killTimer);
      this.forget(entry);
      await this.refreshHosts(entry.namespace).catch(() => undefined);
    })();
  }

  private signal(entry: RunningPod, signal: NodeJS.Signals): void {
    const pid = entry.child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is gone already.
      }
    }
    if (signal === 'SIGKILL') {
      for (const member of entry.cgroup?.pids() ?? []) {
        try {
          process.kill(member, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
  }

  private forget(entry: RunningPod): void {
    if (this.pods.get(entry.uid) !== entry) return;
    this.pods.delete(entry.uid);
    this.usedAddresses.delete(entry.ip);
    entry.cgroup?.remove();
    rmSync(entry.podDir, { recursive: true, force: true });
  }

  // ---- name resolution ------------------------------------------------------------------------

  private async refreshHosts(namespace: string): Promise<void> {
    const namespaces = new Set([namespace, ...[...this.pods.values()].map((p) => p.namespace)]);
    const lines: string[] = [];
    for (const ns of namespaces) {
      const services = await this.core.listNamespacedService({ namespace: ns });
      for (const service of services.items) {
        const selector = service.spec?.selector;
        if (selector === undefined || Object.keys(selector).length === 0) continue;
        const target = [...this.pods.values()].find(
          (p) => p.namespace === ns && !p.deleted && p.child !== undefined && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
        );
        const svc = service.metadata?.name ?? '';
        if (target !== undefined) lines.push(`${target.ip} ${svc}.${ns}.svc.cluster.local ${svc}.${ns}.svc ${svc}.${ns} ${svc}`);
      }
    }
    this.writeHosts(lines);
  }

  private writeHosts(lines: readonly string[]): void {
    // A hosts file answers every lookup the JVM makes: without the machine's own name it cannot start.
    const text = [`127.0.0.1 localhost ${os.hostname()}`, '::1 localhost ip6-localhost', ...lines, ''].join('\n');
    const tmp = `${this.hostsFile}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.hostsFile);
  }

  // ---- status -------------------------------------------------------------------------------

  private async patchStatus(pod: V1Pod, status: V1PodStatus): Promise<void> {
    await this.core.patchNamespacedPodStatus(
      { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private baseStatus(pod: V1Pod, ip: string | undefined): V1PodStatus {
    return {
      hostIP: HOST_IP,
      hostIPs: [{ ip: HOST_IP }],
      ...(ip === undefined ? {} : { podIP: ip, podIPs: [{ ip }] }),
      startTime: pod.status?.startTime ?? new Date(),
    };
  }

  private containerBase(pod: V1Pod): Pick<V1ContainerStatus, 'name' | 'image' | 'imageID' | 'restartCount'> {
    const container = (pod.spec?.containers ?? [])[0];
    return { name: container?.name ?? '', image: container?.image ?? '', imageID: '', restartCount: 0 };
  }

  private waitingStatus(pod: V1Pod, entry: RunningPod, reason: string, message: string): V1PodStatus {
    return {
      ...this.baseStatus(pod, undefined),
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady' },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
      ],
      containerStatuses: [{ ...this.containerBase(pod), name: entry.containerName, ready: false, started: false, state: { waiting: { reason, message } } }],
    };
  }

  private runningStatus(pod: V1Pod, entry: RunningPod, startedAt: Date, pid: number): V1PodStatus {
    return {
      ...this.baseStatus(pod, entry.ip),
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      containerStatuses: [{ ...this.containerBase(pod), containerID: `local://${pid}`, ready: true, started: true, state: { running: { startedAt } } }],
    };
  }

  private terminatedStatus(pod: V1Pod, entry: RunningPod | undefined, exitCode: number, reason: string, message?: string): V1PodStatus {
    const finishedAt = new Date();
    const startedAt = entry?.startedAt ?? finishedAt;
    return {
      ...this.baseStatus(pod, entry?.ip ?? pod.status?.podIP),
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'False', reason: exitCode === 0 ? 'PodCompleted' : 'PodFailed' },
        { type: 'Ready', status: 'False', reason: exitCode === 0 ? 'PodCompleted' : 'PodFailed' },
      ],
      containerStatuses: [
        {
          ...this.containerBase(pod),
          ready: false,
          started: false,
          state: { terminated: { exitCode, reason, startedAt, finishedAt, ...(message === undefined ? {} : { message }), ...(entry?.child?.pid === undefined ? {} : { containerID: `local://${entry.child.pid}` }) } },
        },
      ],
    };
  }
}

/** Rewrites the container paths in every file below `dir` (ConfigMap files are small text). */
function rewriteFiles(dir: string, paths: PathMap): void {
  const walk = (current: string): void => {
    for (const dirent of readdirSafe(current)) {
      const full = path.join(current, dirent.name);
      if (dirent.isDirectory()) walk(full);
      else if (dirent.isFile()) writeFileSync(full, paths.map(readFileSync(full, 'utf8')));
    }
  };
  walk(dir);
}

function readdirSafe(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
