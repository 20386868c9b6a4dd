/**
 * The fault matrix's world: a Temporal dev server the test can kill and restart (file-backed),
 * the real local Kubernetes control plane (scripts/k8s.sh; NIGHTJAR_TEST_KUBECONFIG) with the
 * operator/kubelet stand-in of local-cluster/ in this process, whose drivers run the real PySpark
 * jobs — or, for the runs that need real pods, a second stand-in submitting with spark-submit in
 * cluster mode and a local container runtime running the driver and executor pods as JVMs —
 * and a fault proxy in front of the API server for the workers, real PostgreSQL with a fresh database per run
 * (optionally behind a TCP proxy the test can cut), real worker processes, and the checks:
 * report digests, a reader that must never see half a business date, objects left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Pool } from 'pg';
import { DataLayout } from '../../src/common/layout';
import { freePort } from '../../src/common/net';
import { loadConfig } from '../../src/config/config';
import type { RunManifest } from '../../src/domain/pipeline';
import { SPARK_REPORTS, REPORTING_SCHEMA, type ReportSpec } from '../../src/domain/reports/catalog';
import { generateFeeds, type GenerateFeedsOptions } from '../../demo/feeds/generate-feeds';
import { localSparkDriver, LocalSparkOperator, type TimelineEntry } from '../../local-cluster';
import { TemporalNightTriggers } from '../../src/triggers/temporal-triggers';
import type { dailyPipeline } from '../../src/workflows/daily-pipeline';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/workflows/search-attributes';
import { createDatabase, dropDatabase } from '../helpers/postgres';
import { REPO_ROOT } from '../helpers/temporal';
import { WorkerProcess, type LogLine } from '../helpers/worker-process';
import { everyTenant, testTarget } from '../helpers/trigger-policy';
import { leftoversIn } from '../kubernetes/harness';
import { ensureSparkDriverRole } from '../../local-cluster/spark-driver-role';
import { FaultProxy } from '../support/fault-proxy';
import { createTestNamespace, deleteTestNamespace, planeKubeConfig, planeKubeConfigFile, planeSchedulable } from '../support/local-plane';
import { startTestRuntime, type TestRuntime } from '../support/local-runtime';

export const BUSINESS_DATE = '2026-11-19';
export const TENANT = 'default';
/** Small enough for a night well under a minute with real Spark; the same for every run. */
export const FEEDS: Omit<GenerateFeedsOptions, 'landingDir' | 'businessDate'> = { seed: 7, transactions: 3000, defectRate: 0.01 };
const IMAGE = 'registry.bank.example/nightjar-spark:reliability';
const IMAGE_JOBS_DIR = '/opt/nightjar/spark';

// ---- ports and processes -----------------------------------------------------------------

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * The Temporal CLI dev server as a child process with a file-backed database, so that it can be
 * killed and started again on the same file and port with every workflow intact.
 */
export class DevServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private constructor(
    readonly port: number,
    readonly dbFile: string,
    private readonly logFile: string,
  ) {}

  static async start(dir: string): Promise<DevServer> {
    const server = new DevServer(await freePort(), path.join(dir, 'temporal.db'), path.join(dir, 'temporal.log'));
    await server.launch();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    const args = [
      'server', 'start-dev', '--headless',
      '--db-filename', this.dbFile,
      '--ip', '127.0.0.1',
      '--port', String(this.port),
      '--log-format', 'json',
      '--log-level', 'warn',
      ...SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]),
    ];
    const child = spawn(path.join(REPO_ROOT, '.venv', 'bin', 'temporal'), args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await until('the Temporal dev server to listen', async () => {
      if (child.exitCode !== null) throw new Error(`the dev server exited with ${child.exitCode}; see ${this.logFile}`);
      return (await isListening(this.port)) || undefined;
    }, 60_000, 200);
    // Listening is not serving yet: wait until the namespace answers.
    await until('the Temporal dev server to serve the default namespace', async () => {
      const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      } finally {
        await connection.close();
      }
    }, 60_000, 250);
  }

  /** SIGKILL: the server dies mid-flight (its SQLite file keeps what it committed). */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- the cluster ---------------------------------------------------------------------------

/**
 * Real Spark pods for the runs that need them: a local container runtime with a label value of
 * this process's own (so it runs no one else's pods) and a second operator stand-in that submits
 * every SparkApplication with spark-submit in cluster mode, as the spark-operator does. Spark
 * creates the driver pod, the driver its executor pods, the runtime runs each as a JVM.
 */
export interface RealSpark {
  readonly operator: LocalSparkOperator;
  readonly runtime: TestRuntime;
}

/**
 * The local control plane seen from the matrix: the operator stand-in and a fault proxy live in
 * this process, so a killed worker does not take the "cluster" with it, and running drivers go
 * on as they would in a real cluster. Workers reach the API server through the proxy.
 */
export class SimulatedCluster {
  /** SparkApplications created, per namespace (the stand-ins' view of the API's writes). */
  private readonly creations = new Map<string, string[]>();
  /** The namespaces whose pods the real-Spark runtime runs (it reads this list on every pod). */
  private readonly realNamespaces: string[] = [];
  private realSpark: Promise<RealSpark> | undefined;
  private constructor(
    readonly proxy: FaultProxy,
    readonly simulator: LocalSparkOperator,
    readonly kubeconfigFile: string,
    private readonly dir: string,
  ) {
    this.recordCreations(simulator);
  }

  private recordCreations(operator: LocalSparkOperator): void {
    operator.waitFor((entry) => {
      // Every `created` entry, never resolving: a listener on the timeline.
      if (entry.what === 'created' && entry.namespace !== undefined) {
        const list = this.creations.get(entry.namespace) ?? [];
        if (!list.includes(entry.app)) list.push(entry.app);
        this.creations.set(entry.namespace, list);
      }
      return false;
    }, 2 ** 31 - 1).catch(() => undefined);
  }

  /** The runtime and the submitting stand-in, started on first use. */
  real(): Promise<RealSpark> {
    this.realSpark ??= (async () => {
      const admin = planeKubeConfig();
      const runtime = await startTestRuntime({
        kubeConfig: admin,
        repoRoot: REPO_ROOT,
        stateDir: path.join(this.dir, 'runtime'),
        labelValue: `reliability-${process.pid}`,
        namespaces: this.realNamespaces,
      });
      const submissions = path.join(this.dir, 'submissions');
      await fsp.mkdir(submissions, { recursive: true });
      const operator = new LocalSparkOperator({
        kubeConfig: admin,
        namespaces: [],
        realSpark: { sparkSubmit: path.join(REPO_ROOT, '.venv', 'bin', 'spark-submit'), kubeConfigPath: planeKubeConfigFile(), podLabels: runtime.podLabels, workDir: submissions },
      });
      await operator.start();
      this.recordCreations(operator);
      return { operator, runtime };
    })();
    return this.realSpark;
  }

  static async start(dir: string): Promise<SimulatedCluster> {
    const admin = planeKubeConfig();
    const venv = path.join(REPO_ROOT, '.venv', 'bin');
    const simulator = new LocalSparkOperator({
      kubeConfig: admin,
      namespaces: [],
      driver: localSparkDriver({
        sparkSubmit: path.join(venv, 'spark-submit'),
        pythonPath: path.join(venv, 'python'),
        jobsDir: path.join(REPO_ROOT, 'spark'),
        imageJobsDir: IMAGE_JOBS_DIR,
        workDir: path.join(dir, 'drivers'),
        pollIntervalMs: 250,
        killGraceMs: 2_000,
        ...classDataDirOf(),
      }),
    });
    await simulator.start();
    const proxy = new FaultProxy(admin);
    await proxy.start();
    // A kubeconfig file, as a deployment would mount one (JSON is YAML).
    const kubeconfigFile = path.join(dir, 'kubeconfig.json');
    await fsp.writeFile(kubeconfigFile, proxy.kubeConfig().exportConfig());
    return new SimulatedCluster(proxy, simulator, kubeconfigFile, dir);
  }

  /**
   * A namespace of the run's own on the plane, reconciled by the stand-in — with `realSpark`, by
   * the one that submits for real, its pods run by the local runtime (the driver's Role granted).
   */
  async createNamespace(prefix: string, options: { realSpark?: boolean } = {}): Promise<string> {
    const admin = planeKubeConfig();
    const namespace = await createTestNamespace(admin, prefix);
    if (options.realSpark) {
      const real = await this.real();
      await ensureSparkDriverRole(admin, namespace);
      this.realNamespaces.push(namespace);
      await real.operator.addNamespace(namespace);
    } else {
      await this.simulator.addNamespace(namespace);
    }
    return namespace;
  }

  /** The stand-in that reconciles the namespace's SparkApplications. */
  private async operatorOf(namespace: string): Promise<LocalSparkOperator> {
    return this.realNamespaces.includes(namespace) ? (await this.real()).operator : this.simulator;
  }

  /** The namespace's pods whose processes the local runtime still runs (real-Spark runs), as `namespace/name`. */
  async podProcesses(namespace: string): Promise<string[]> {
    if (!this.realNamespaces.includes(namespace)) return [];
    return (await this.real()).runtime.kubelet.runningPods().filter((p) => p.startsWith(`${namespace}/`));
  }

  async deleteNamespace(namespace: string): Promise<void> {
    await deleteTestNamespace(planeKubeConfig(), namespace);
  }

  sparkApplicationsCreated(namespace: string): readonly string[] {
    return this.creations.get(namespace) ?? [];
  }

  /** Every object left in the namespace, events aside. */
  leftovers(namespace: string): Promise<string[]> {
    return leftoversIn(planeKubeConfig(), namespace);
  }

  /** The first timeline entry of this step of a job's application created in the namespace. */
  async waitForDriver(namespace: string, job: 'normalize' | 'transform', what: TimelineEntry['what'], timeoutMs = 300_000): Promise<TimelineEntry> {
    const operator = await this.operatorOf(namespace);
    return operator.waitFor((e) => e.app.includes(`-${job}-`) && e.what === what && this.sparkApplicationsCreated(namespace).includes(e.app), timeoutMs);
  }

  /** Local spark-submit processes still running for these applications (drivers not stopped). */
  runningDrivers(apps: readonly string[]): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (apps.some((app) => cmdline.includes(`${app}.driver-`))) pids.push(Number(entry));
    }
    return pids;
  }

  async stop(): Promise<void> {
    const real = await this.realSpark?.catch(() => undefined);
    await real?.operator.stop().catch(() => undefined);
    await real?.runtime.stop().catch(() => undefined);
    await this.simulator.stop().catch(() => undefined);
    await this.proxy.stop().catch(() => undefined);
  }
}

// ---- PostgreSQL ------------------------------------------------------------------------------

export { createDatabase, dropDatabase, reportDigests } from '../helpers/postgres';

/** The URL with its host and port replaced (to go through a proxy). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

const qualified = (spec: ReportSpec) => `"${REPORTING_SCHEMA}"."${spec.table}"`;

/** Rows of the date per Spark report table, read in one snapshot. */
export async function sparkReportCounts(pool: Pool, businessDate: string): Promise<Record<string, number>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const counts: Record<string, number> = {};
    for (const spec of SPARK_REPORTS) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(spec)} WHERE business_date = $1::date`, [businessDate]);
      counts[spec.table] = Number(rows[0]?.n ?? 0);
    }
    await client.query('COMMIT');
    return counts;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Polls the Spark report tables of the date (one snapshot per look) while a run goes on, and
 * remembers every look that was neither "nothing" nor the complete date: half a date visible.
 */
export class PartialDateReader {
  readonly partial: Record<string, number>[] = [];
  looks = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly businessDate: string,
    private readonly complete: Readonly<Record<string, number>>,
    /** False when the date was complete before the run (a re-run): it must never be empty. */
    private readonly emptyAllowed = true,
    everyMs = 50,
  ) {
    this.loop = (async () => {
      while (!this.stopped) {
        const counts = await sparkReportCounts(this.pool, this.businessDate).catch(() => undefined);
        if (counts) {
          this.looks += 1;
          if (!this.acceptable(counts)) this.partial.push(counts);
        }
        await sleep(everyMs);
      }
    })();
  }

  private acceptable(counts: Record<string, number>): boolean {
    const tables = Object.keys(counts);
    return (this.emptyAllowed && tables.every((t) => counts[t] === 0)) || tables.every((t) => counts[t] === this.complete[t]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/**
 * Holds a SHARE lock on the export bookkeeping table from a connection of the test: an export
 * then stops inside its transaction, after deleting the date and loading its first table,
 * when it records that table's batch. Resolves once an export waits on it.
 */
export async function holdExportMidway(pool: Pool): Promise<{ waiting: () => Promise<number | undefined>; release: () => Promise<void> }> {
  const client = await pool.connect();
  // A checked-out client has no listener of the pool's: the database dropped under it at the end of
  // a failed run must not become an unhandled error of the whole file.
  client.on('error', () => undefined);
  await client.query('BEGIN');
  await client.query('LOCK TABLE "reporting"."export_batches" IN SHARE MODE');
  let released = false;
  return {
    async waiting() {
      const { rows } = await pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'nightjar-reporting' AND wait_event_type = 'Lock'",
      );
      return rows[0]?.pid;
    },
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT').catch(() => undefined);
      client.release();
    },
  };
}

/**
 * A TCP proxy between the worker and PostgreSQL. `cut()` drops every connection and refuses
 * new ones (nothing listens); `restore()` listens again on the same port.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  refused = 0;
  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.restore();
    return proxy;
  }

  restore(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// ---- the run -------------------------------------------------------------------------------

/** The machine's class-data archive directory, as a worker's configuration has it (absent when turned off). */
function classDataDirOf(): { classDataDir?: string } {
  const { classDataDir } = loadConfig(process.env, REPO_ROOT).spark;
  return classDataDir !== undefined ? { classDataDir } : {};
}

/** Everything one file's runs share: one dev server, one cluster, generated inputs, a client. */
export interface MatrixWorld {
  readonly dir: string;
  readonly devServer: DevServer;
  readonly cluster: SimulatedCluster;
  client(): Promise<Client>;
  /** A fresh data directory with the night's feeds in its landing zone. */
  dataDir(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<MatrixWorld> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'nightjar-rel-'));
  const [devServer, cluster] = await Promise.all([DevServer.start(dir), SimulatedCluster.start(dir)]);
  // Generated once; every run gets a byte-identical copy.
  const feedsDir = path.join(dir, 'feeds');
  await generateFeeds({ ...FEEDS, landingDir: feedsDir, businessDate: BUSINESS_DATE });
  let connection: Connection | undefined;
  let client: Client | undefined;
  return {
    dir,
    devServer,
    cluster,
    async client() {
      if (!client) {
        connection = await Connection.connect({ address: devServer.address });
        client = new Client({ connection });
      }
      return client;
    },
    async dataDir(name) {
      const dataDir = path.join(dir, 'runs', name);
      const landing = new DataLayout(dataDir).landingDir(BUSINESS_DATE);
      await fsp.mkdir(landing, { recursive: true });
      for (const file of await fsp.readdir(feedsDir)) await fsp.copyFile(path.join(feedsDir, file), path.join(landing, file));
      return dataDir;
    },
    async close() {
      await connection?.close().catch(() => undefined);
      await cluster.stop();
      await devServer.stop();
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** One run's own resources: data directory, database, namespace, task queue and worker settings. */
export interface RunContext {
  readonly name: string;
  readonly dataDir: string;
  readonly database: string;
  /** The direct URL of the run's database (readers, digests). */
  readonly pgUrl: string;
  readonly pool: Pool;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly workers: WorkerProcess[];
  /** The worker environment (NIGHTJAR_*), with the reporting URL given (direct or via a proxy). */
  workerEnv(reportingUrl?: string): Record<string, string>;
  startWorker(options?: { reportingUrl?: string; logLevel?: string; onLine?: (line: LogLine, worker: WorkerProcess) => void }): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * `realSpark`: the run's Spark jobs run as real pods (a driver and executor JVMs run by the local
 * runtime, submitted with spark-submit by the stand-in), not as local drivers behind played pods.
 * `env`: worker settings of this run over the matrix's.
 */
export interface RunOptions {
  readonly realSpark?: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

export async function newRun(world: MatrixWorld, name: string, options: RunOptions = {}): Promise<RunContext> {
  const suffix = randomBytes(3).toString('hex');
  const database = `nightjar_rel_${name.replace(/[^a-z0-9]/g, '_')}_${suffix}`;
  const pgUrl = await createDatabase(database);
  const pool = new Pool({ connectionString: pgUrl, max: 3 });
  pool.on('error', () => undefined); // an idle connection ended by the faults (or the drop) is not the test's failure
  const dataDir = await world.dataDir(`${name}-${suffix}`);
  const namespace = await world.cluster.createNamespace(`rel-${name}`.slice(0, 40).replace(/-+$/, ''), { realSpark: options.realSpark === true });
  const taskQueue = `reliability-${name}-${suffix}`;
  const workers: WorkerProcess[] = [];
  const workerEnv = (reportingUrl = pgUrl): Record<string, string> => ({
    NIGHTJAR_DATA_DIR: dataDir,
    NIGHTJAR_TEMPORAL_ADDRESS: world.devServer.address,
    NIGHTJAR_TASK_QUEUE: taskQueue,
    NIGHTJAR_REPORTING_STORE: 'postgres',
    NIGHTJAR_REPORTING_PG_URL: reportingUrl,
    NIGHTJAR_SPARK_PLATFORM: 'kubernetes',
    NIGHTJAR_K8S_CONFIG: world.cluster.kubeconfigFile,
    NIGHTJAR_K8S_NAMESPACE: namespace,
    NIGHTJAR_K8S_IMAGE: IMAGE,
    NIGHTJAR_K8S_JOBS_DIR: IMAGE_JOBS_DIR,
    NIGHTJAR_K8S_POLL_SECONDS: '1',
    NIGHTJAR_K8S_STUCK_AFTER_SECONDS: '300',
    NIGHTJAR_K8S_CLEANUP_TIMEOUT_SECONDS: '20',
    NIGHTJAR_SPARK_CORES: '2',
    NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '1024',
    NIGHTJAR_SPARK_SHUFFLE_PARTITIONS: '4',
    NIGHTJAR_FEED_POLL_SECONDS: '1',
    NIGHTJAR_METRICS_ADDRESS: 'off',
    NIGHTJAR_LOG_LEVEL: 'info',
    ...options.env,
  });
  return {
    name,
    dataDir,
    database,
    pgUrl,
    pool,
    namespace,
    taskQueue,
    workers,
    workerEnv,
    async startWorker(options = {}) {
      const worker = await WorkerProcess.start({
        env: { ...workerEnv(options.reportingUrl), ...(options.logLevel ? { NIGHTJAR_LOG_LEVEL: options.logLevel } : {}) },
        name: `${name} worker ${workers.length + 1}`,
        logFile: path.join(LOG_DIR, `${name}-${suffix}-worker${workers.length + 1}.log`),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const w of workers) await w.stop(5_000);
      await pool.end().catch(() => undefined);
      await dropDatabase(database).catch(() => undefined);
      await world.cluster.deleteNamespace(namespace).catch(() => undefined);
    },
  };
}

/** Starts (forced: the date may have run before on this server) the night through the project's triggers. */
export async function startNight(world: MatrixWorld, run: RunContext, options: { businessDate?: string; force?: boolean } = {}): Promise<WorkflowHandle<typeof dailyPipeline>> {
  // A plane left unable to place pods (a component or node not back) fails the night here, not after its guard.
  await planeSchedulable(planeKubeConfig());
  const client = await world.client();
  const triggers = new TemporalNightTriggers(client, testTarget(run.taskQueue, everyTenant()));
  const started = await triggers.startNight({ businessDate: options.businessDate ?? BUSINESS_DATE, tenant: TENANT, force: options.force ?? true });
  // Joining a night left running by a failed run would test that run, not this one.
  if (!started.started) throw new Error(`${started.workflowId} is still running (run ${started.runId}): a previous run did not end`);
  return client.workflow.getHandle<typeof dailyPipeline>(started.workflowId, started.runId);
}

export function readManifest(run: RunContext, businessDate = BUSINESS_DATE): RunManifest {
  return JSON.parse(fs.readFileSync(new DataLayout(run.dataDir).manifestFile(businessDate), 'utf8')) as RunManifest;
}

/**
 * Resolves once an activity of this type runs on a worker (state STARTED on the server), so a
 * kill lands inside it rather than between two activities.
 */
export async function activityRunning(world: MatrixWorld, workflowId: string, activityType: string, timeoutMs = 300_000): Promise<void> {
  const client = await world.client();
  const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  await until(
    `${activityType} to run in ${workflowId}`,
    async () => {
      const { raw } = await client.workflow.getHandle(workflowId).describe();
      return raw.pendingActivities?.some((a) => a.activityType?.name === activityType && a.state === STARTED) || undefined;
    },
    timeoutMs,
    100,
  );
}

/** How many times each activity type was started (attempts included), from the workflow histories. */
export async function activityStarts(world: MatrixWorld, workflowIds: readonly string[]): Promise<Record<string, number[]>> {
  const client = await world.client();
  const attempts: Record<string, number[]> = {};
  for (const id of workflowIds) {
    // The latest run of each id: the runs of a file are sequential.
    const history = await client.workflow.getHandle(id).fetchHistory();
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '?');
      const started = event.activityTaskStartedEventAttributes;
      if (started) {
        const type = scheduled.get(String(started.scheduledEventId)) ?? '?';
        (attempts[type] ??= []).push(started.attempt ?? 1);
      }
    }
  }
  return attempts;
}

// ---- results -------------------------------------------------------------------------------

export interface ResultRow {
  readonly fault: string;
  readonly injected: number;
  readonly completed: number;
  readonly digestsEqual: number;
  readonly duplicateSubmissions: number;
  readonly leftovers: number;
  readonly seconds: number;
  readonly notes?: string;
}

export const REPORT_FILE = path.join(REPO_ROOT, '.cache', 'reliability-report.json');
/** Each worker's output, kept for a look after a failed run. */
export const LOG_DIR = path.join(REPO_ROOT, '.cache', 'reliability-logs');

/** Adds (or replaces, by fault) a row of `.cache/reliability-report.json`. */
export function recordResult(row: ResultRow): void {
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  let rows: (ResultRow & { at?: string })[] = [];
  try {
    rows = JSON.parse(fs.readFileSync(REPORT_FILE, 'utf8')) as ResultRow[];
    if (!Array.isArray(rows)) rows = [];
  } catch {
    rows = [];
  }
  rows = rows.filter((r) => r.fault !== row.fault);
  rows.push({ ...row, at: new Date().toISOString() });
  fs.writeFileSync(REPORT_FILE, `${JSON.stringify(rows, null, 2)}\n`);
}
