/**
 * Scale: 30 business days × 20 tenants backfilled (600 nights) on one worker and the real dev
 * server, through the real backfill and triggers, with fake activities whose Spark step takes a
 * fixed time. Each arm (a worker tuning) gets a fresh dev server and a worker process of its own
 * (bench/scale-worker.ts), so the worker's memory is measured apart from this process (the client
 * and the backfill). Reports wall time against the ideal for the concurrency bound, the worker's
 * RSS, main heap and workflow-thread heap, and where the CPU went (dev server, worker, client).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerConfig } from '../src/config/worker';
import { businessDatesBetween, type BusinessCalendar } from '../src/domain/calendar';
import { dailyWorkflowId } from '../src/domain/ids';
import { backfill, type BackfillNight } from '../src/triggers/backfill';
import { TemporalNightTriggers } from '../src/triggers/temporal-triggers';
import { percentile, procStatusBytes, round } from './stats';
import { benchDevServer, benchWorkflowsPath } from './dev-server';
import { DEFAULT_ESCALATION } from '../src/domain/spark/escalation';
import type { ScaleWorkerArgs, ScaleWorkerMessage, ScaleWorkerReport } from './scale-worker';

/** One worker set-up to measure: its tuning and, optionally, extra environment for its process. */
export interface ScaleArm {
  readonly name: string;
  readonly tuning: WorkerConfig;
  readonly env?: Readonly<Record<string, string>>;
  /** Node options for the worker process (V8 heap flags). */
  readonly execArgv?: readonly string[];
}

export interface ScaleArmResult {
  readonly arm: string;
  readonly nights: number;
  readonly singleNightMs: number;
  readonly wallMs: number;
  readonly idealWallMs: number;
  readonly wallOverIdeal: number;
  readonly startsPerSecond: number;
  readonly nightP50Ms: number;
  readonly nightP99Ms: number;
  /** The worker process's peak RSS (VmHWM), MiB. */
  readonly workerPeakRssMiB: number;
  /** At the highest sampled RSS: anonymous memory (heaps, native allocations) and file-backed pages (node, the core's library). */
  readonly workerRssAnonMiB: number;
  readonly workerRssFileMiB: number;
  readonly workerMainHeapMiB: number;
  readonly workflowHeapMiB: number;
  /** Peak heap pages held by V8 (used or garbage), main and workflow threads. */
  readonly workerMainHeapCommittedMiB: number;
  readonly workflowHeapCommittedMiB: number;
  readonly workflowThreads: number;
  readonly workerExternalMiB: number;
  /** Mid-run (half the nights settled), after a full collection: what the heaps really hold, and the RSS then. */
  readonly retained?: RetainedMiB;
  /** The same, idle: after the one night alone settled (no workflow cached). */
  readonly idle?: RetainedMiB;
  /** The CPU floor: all three processes' CPU time spread over the machine's cores, against the ideal. */
  readonly cpuFloorOverIdeal: number;
  /** This process (client, backfill, dev-server handle): peak RSS, MiB. */
  readonly clientPeakRssMiB: number;
  /** CPU seconds during the 600-night backfill, by process. */
  readonly cpuSeconds: { readonly devServer: number; readonly worker: number; readonly client: number };
  /** The worker's busiest threads (name: CPU seconds), over its whole life. */
  readonly workerThreads: readonly { readonly name: string; readonly seconds: number }[];
  readonly mainEventLoopUtilization: number;
  /** CPU milliseconds per night, all three processes. */
  readonly cpuMsPerNight: number;
  readonly loadAverage: readonly [number, number];
  readonly historyEventsMedian: number;
  readonly historyEventsMax: number;
  readonly failed: number;
}

export interface RetainedMiB {
  readonly mainHeapMiB: number;
  readonly workflowHeapMiB: number;
  readonly rssMiB: number;
}

const retainedMiB = (m: ScaleWorkerMessage | undefined): { retained?: RetainedMiB } =>
  m?.kind === 'retained' ? { retained: { mainHeapMiB: MiB(m.retained.mainHeap), workflowHeapMiB: MiB(m.retained.workflowHeap), rssMiB: MiB(m.retained.rss) } } : {};

export interface ScaleResult {
  readonly tenants: number;
  readonly businessDays: number;
  readonly concurrency: number;
  readonly sparkStepMs: number;
  readonly arms: readonly ScaleArmResult[];
}

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode } = require('@temporalio/worker');
const fs = require('node:fs');
const [workflowsPath, out] = process.argv.slice(1);
const quiet = () => {};
bundleWorkflowCode({ workflowsPath, logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error } })
  .then(({ code }) => fs.writeFileSync(out, code))
  .catch((err) => { console.error(err); process.exit(1); });
`;

const CALENDAR: BusinessCalendar = { region: 'bench', timeZone: 'UTC', weekend: [6, 7], holidays: [] };
const TICKS_PER_SECOND = 100;
const MiB = (bytes: number) => round(bytes / 2 ** 20, 0);

/** utime + stime of a process or thread, in seconds (/proc/…/stat, fields 14 and 15). */
function cpuSecondsOf(statPath: string): number {
  const stat = fs.readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The dev server this process started (a child named `temporal`). */
function devServerPid(): number | undefined {
  const children = fs
    .readdirSync('/proc/self/task')
    .flatMap((tid) => fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter((p) => p !== '')
    .map(Number);
  return children.find((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'temporal');
}

/** CPU seconds per thread name of a process (threads of one name summed). */
function threadCpu(pid: number, threadsBefore: ReadonlySet<number>): { name: string; seconds: number }[] {
  const byName = new Map<string, number>();
  const nameOf = (tid: number) => {
    if (tid === pid) return 'main';
    const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    if (comm === 'tokio-runtime-w') return 'core (Rust)';
    // Node names none of its threads: the ones born with the Worker are its workflow threads, the older ones V8's helpers (GC, compiler).
    if (comm === 'node') return threadsBefore.has(tid) ? 'V8 helpers' : 'workflow';
    return comm;
  };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = nameOf(Number(tid));
      byName.set(name, (byName.get(name) ?? 0) + cpuSecondsOf(`/proc/${pid}/task/${tid}/stat`));
    } catch (err) {
      // A thread that ended after the listing (the SDK's and libuv's come and go): its CPU is gone with it.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return [...byName].map(([name, seconds]) => ({ name, seconds: round(seconds, 1) })).sort((a, b) => b.seconds - a.seconds);
}

function startWorker(args: ScaleWorkerArgs, arm: ScaleArm) {
  const child = fork(path.join(__dirname, 'scale-worker.js'), [JSON.stringify(args)], {
    env: { ...process.env, ...arm.env },
    execArgv: [...process.execArgv, ...(arm.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (kind: ScaleWorkerMessage['kind']) => {
    const message = nextMessage(child, kind);
    // Awaited later, or never when the worker fails first (the run then fails on the first awaited one).
    message.catch(() => undefined);
    return message;
  };
  return { child, ready: next('ready'), retained: next('retained'), report: next('report') };
}

function nextMessage(child: ChildProcess, kind: ScaleWorkerMessage['kind']): Promise<ScaleWorkerMessage> {
  return new Promise<ScaleWorkerMessage>((resolve, reject) => {
      const onMessage = (m: ScaleWorkerMessage) => {
        if (m.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`the scale worker exited (${code}) before '${kind}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
}

async function stopWorker(child: ChildProcess, report: Promise<ScaleWorkerMessage>): Promise<ScaleWorkerReport> {
  child.send('stop');
  const m = await report;
  if (m.kind !== 'report') throw new Error('the scale worker sent no report');
  await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  return m.report;
}

async function runArm(
  arm: ScaleArm,
  opts: { readonly repoRoot: string; readonly bundleFile: string; readonly tenants: number; readonly businessDays: number; readonly concurrencyPerTenant: number; readonly sparkMs: number },
): Promise<ScaleArmResult> {
  const env = await benchDevServer(opts.repoRoot, ['--dynamic-config-value', 'frontend.rps=10000', '--dynamic-config-value', 'frontend.namespaceRPS=10000']);
  const taskQueue = 'bench-scale';
  const namespace = env.namespace ?? 'default';
  const worker = startWorker({ address: env.address, namespace, taskQueue, bundleFile: opts.bundleFile, sparkMs: opts.sparkMs, tuning: arm.tuning }, arm);
  try {
    const ready = await worker.ready;
    const threadsBefore = new Set(ready.kind === 'ready' ? ready.threadsBefore : []);
    const workerPid = worker.child.pid as number;
    const serverPid = devServerPid();
    // The tenants the backfill runs for; the trigger policy must serve each of them.
    const tenants = Array.from({ length: opts.tenants }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
    const triggers = new TemporalNightTriggers(env.client, { namespace, taskQueue, policy: { tenants: ['solo', ...tenants], window: { pastDays: 36_600, futureDays: 366 }, caps: { normalize: DEFAULT_ESCALATION, transform: DEFAULT_ESCALATION }, today: () => new Date().toISOString().slice(0, 10) } });
    // Business days from a Monday.
    const from = '2026-01-05';
    const dates = businessDatesBetween(CALENDAR, from, '2026-12-31').slice(0, opts.businessDays);
    const to = dates[dates.length - 1] as string;

    let clientPeakRss = 0;
    // The worker's RSS split as the kernel counts it, at the sample where it was highest.
    let workerRssSplit = { rss: 0, anon: 0, file: 0 };
    const sampler = setInterval(() => {
      clientPeakRss = Math.max(clientPeakRss, process.memoryUsage().rss);
      const rss = procStatusBytes(workerPid, 'VmRSS');
      if (rss > workerRssSplit.rss) workerRssSplit = { rss, anon: procStatusBytes(workerPid, 'RssAnon'), file: procStatusBytes(workerPid, 'RssFile') };
    }, 250);

    // One night alone: the ideal's unit.
    const t0 = performance.now();
    await backfill({ client: env.client, triggers, calendar: CALENDAR, tenant: 'solo', from: '2025-12-01', to: '2025-12-01', concurrency: 1 });
    const singleNightMs = performance.now() - t0;
    // Idle (the one night done and evicted): the bundle's context, the SDK, the runtime.
    worker.child.send('measure');
    const idle = await worker.retained;
    worker.retained = nextMessage(worker.child, 'retained');
    worker.retained.catch(() => undefined);

    const nights: BackfillNight[] = [];
    const total = tenants.length * dates.length;
    let retained: Promise<ScaleWorkerMessage> | undefined;
    const onNight = (n: BackfillNight) => {
      nights.push(n);
      // Half-way, the cache is as full as it gets: ask the worker what its heaps hold after a full collection.
      if (nights.length === Math.floor(total / 2)) {
        worker.child.send('measure');
        retained = worker.retained;
      }
    };
    const cpu0 = { devServer: serverPid ? cpuSecondsOf(`/proc/${serverPid}/stat`) : NaN, worker: cpuSecondsOf(`/proc/${workerPid}/stat`), client: process.cpuUsage() };
    const load0 = os.loadavg()[0] as number;
    const began = performance.now();
    await Promise.all(tenants.map((tenant) => backfill({ client: env.client, triggers, calendar: CALENDAR, tenant, from, to, concurrency: opts.concurrencyPerTenant, onNight })));
    const wallMs = performance.now() - began;
    const clientCpu = process.cpuUsage(cpu0.client);
    const cpuSeconds = {
      devServer: round(serverPid ? cpuSecondsOf(`/proc/${serverPid}/stat`) - cpu0.devServer : NaN, 1),
      worker: round(cpuSecondsOf(`/proc/${workerPid}/stat`) - cpu0.worker, 1),
      client: round((clientCpu.user + clientCpu.system) / 1e6, 1),
    };
    const load1 = os.loadavg()[0] as number;
    clearInterval(sampler);
    const workerPeakRss = procStatusBytes(workerPid, 'VmHWM');
    const workerThreads = threadCpu(workerPid, threadsBefore);
    const mid = await retained;

    // History size: a sample of nights across tenants.
    const sample = tenants.slice(0, 10).flatMap((tenant) => dates.slice(0, 2).map((date) => dailyWorkflowId(date, tenant)));
    const events: number[] = [];
    for (const id of sample) events.push((await env.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0);

    const report = await stopWorker(worker.child, worker.report);
    const concurrency = opts.tenants * opts.concurrencyPerTenant;
    const idealWallMs = Math.ceil(nights.length / concurrency) * singleNightMs;
    const durations = nights.map((n) => n.durationMs);
    return {
      arm: arm.name,
      nights: nights.length,
      singleNightMs: round(singleNightMs, 0),
      wallMs: round(wallMs, 0),
      idealWallMs: round(idealWallMs, 0),
      wallOverIdeal: round(wallMs / idealWallMs, 2),
      startsPerSecond: round(nights.length / (wallMs / 1000), 1),
      nightP50Ms: round(percentile(durations, 50), 0),
      nightP99Ms: round(percentile(durations, 99), 0),
      workerPeakRssMiB: MiB(workerPeakRss),
      workerRssAnonMiB: MiB(workerRssSplit.anon),
      workerRssFileMiB: MiB(workerRssSplit.file),
      workerMainHeapMiB: MiB(report.peakMainHeap),
      workflowHeapMiB: MiB(report.peakWorkflowHeap),
      workerMainHeapCommittedMiB: MiB(report.peakMainHeapCommitted),
      workflowHeapCommittedMiB: MiB(report.peakWorkflowHeapCommitted),
      workflowThreads: report.workflowThreads,
      workerExternalMiB: MiB(report.peakExternal),
      ...retainedMiB(mid),
      ...(retainedMiB(idle).retained ? { idle: retainedMiB(idle).retained } : {}),
      cpuFloorOverIdeal: round(((cpuSeconds.devServer + cpuSeconds.worker + cpuSeconds.client) * 1000) / os.cpus().length / idealWallMs, 2),
      clientPeakRssMiB: MiB(clientPeakRss),
      cpuSeconds,
      workerThreads: workerThreads.slice(0, 4),
      mainEventLoopUtilization: round(report.mainEventLoopUtilization, 2),
      cpuMsPerNight: round(((cpuSeconds.devServer + cpuSeconds.worker + cpuSeconds.client) * 1000) / nights.length, 0),
      loadAverage: [round(load0, 1), round(load1, 1)],
      historyEventsMedian: percentile(events, 50),
      historyEventsMax: Math.max(...events),
      failed: nights.filter((n) => n.outcome !== 'COMPLETED').length,
    };
  } finally {
    if (worker.child.exitCode === null) worker.child.kill();
    await env.teardown();
  }
}

export async function benchScale(opts: {
  readonly repoRoot: string;
  readonly tenants: number;
  readonly businessDays: number;
  readonly concurrencyPerTenant: number;
  readonly sparkMs: number;
  /** The set-ups to compare, one after the other in this run. */
  readonly arms: readonly ScaleArm[];
  /** Told as each arm ends (a long run leaves its figures behind even if a later arm fails). */
  readonly onArm?: (result: ScaleArmResult) => void;
}): Promise<ScaleResult> {
  // Bundled in another process, as a production worker loads a bundle prebuilt at image build
  // time (NIGHTJAR_WORKFLOW_BUNDLE): webpack's memory is not the worker's.
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-scale-'));
  try {
    const bundleFile = path.join(bundleDir, 'workflow-bundle.js');
    execFileSync(process.execPath, ['-e', BUNDLE_SCRIPT, benchWorkflowsPath(opts.repoRoot), bundleFile], { stdio: ['ignore', 'ignore', 'inherit'] });
    const arms: ScaleArmResult[] = [];
    for (const arm of opts.arms) {
      const result = await runArm(arm, { ...opts, bundleFile });
      opts.onArm?.(result);
      arms.push(result);
    }
    return { tenants: opts.tenants, businessDays: opts.businessDays, concurrency: opts.tenants * opts.concurrencyPerTenant, sparkStepMs: opts.sparkMs, arms };
  } finally {
    fs.rmSync(bundleDir, { recursive: true, force: true });
  }
}
