/**
 * The scale bench's worker, in a process of its own so that its memory is measured apart from the
 * client's: the worker's configured tuning, a prebuilt bundle, fake activities whose Spark step
 * takes a fixed time. It reports its main heap and its workflow threads' heaps (read through the
 * inspector: `process.memoryUsage()` counts the main isolate only) to the parent over IPC.
 *
 * Started by bench/scale.ts with one JSON argument (ScaleWorkerArgs); stops on the message 'stop'.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../src/activities';
import type { WorkerConfig } from '../src/config/worker';
import { applyV8Flags, workerTuning } from '../src/worker/tuning';
import { fakeActivities } from '../test/helpers/fake-activities';

export interface ScaleWorkerArgs {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly bundleFile: string;
  readonly sparkMs: number;
  readonly tuning: WorkerConfig;
}

/** What the worker process says about itself (peaks over the run, in bytes; CPU in ms). */
export interface ScaleWorkerReport {
  readonly peakMainHeap: number;
  /** Heap pages V8 holds (used or not), which is what the RSS sees. */
  readonly peakMainHeapCommitted: number;
  readonly peakWorkflowHeapCommitted: number;
  /** The sum over the workflow threads, at the sample where it peaked. */
  readonly peakWorkflowHeap: number;
  readonly workflowThreads: number;
  readonly peakExternal: number;
  readonly peakArrayBuffers: number;
  /** Fraction of the run the main thread's event loop was busy (polling, activities, core calls). */
  readonly mainEventLoopUtilization: number;
}

/** What is left on the heaps after a full garbage collection, mid-run (bytes). */
export interface ScaleWorkerRetained {
  readonly mainHeap: number;
  readonly workflowHeap: number;
  readonly rss: number;
}

export type ScaleWorkerMessage =
  /** `threadsBefore`: the process's threads before the worker was created (the workflow threads are among the others). */
  | { readonly kind: 'ready'; readonly threadsBefore: readonly number[] }
  | { readonly kind: 'retained'; readonly retained: ScaleWorkerRetained }
  | { readonly kind: 'report'; readonly report: ScaleWorkerReport };

/** Fake activities whose `awaitSparkJob` takes `sparkMs` (heartbeat-free: the step is short). */
function withSparkDuration(fakes: Activities, sparkMs: number): Activities {
  return {
    ...fakes,
    awaitSparkJob: async (submission) => {
      await new Promise((r) => setTimeout(r, sparkMs));
      return fakes.awaitSparkJob(submission);
    },
  };
}

interface HeapUsage {
  readonly usedSize: number;
  readonly totalSize: number;
}

/** The used heap of every worker thread of this process (the SDK's workflow threads), via the inspector's NodeWorker domain. */
function workerThreadHeaps() {
  const session = new inspector.Session();
  session.connect();
  const threads = new Set<string>();
  const pending = new Map<number, (usage: HeapUsage) => void>();
  let nextId = 0;
  session.on('NodeWorker.attachedToWorker', ({ params }) => threads.add(params.sessionId));
  session.on('NodeWorker.detachedFromWorker', ({ params }) => threads.delete(params.sessionId));
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const message = JSON.parse(params.message) as { id?: number; result?: Partial<HeapUsage> };
    const resolve = message.id === undefined ? undefined : pending.get(message.id);
    if (resolve === undefined || message.id === undefined) return;
    pending.delete(message.id);
    resolve({ usedSize: message.result?.usedSize ?? 0, totalSize: message.result?.totalSize ?? 0 });
  });
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const call = (sessionId: string, method: string) =>
    new Promise<HeapUsage>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) });
    });
  const sample = async (): Promise<HeapUsage> =>
    (await Promise.all([...threads].map((t) => call(t, 'Runtime.getHeapUsage')))).reduce((a, b) => ({ usedSize: a.usedSize + b.usedSize, totalSize: a.totalSize + b.totalSize }), { usedSize: 0, totalSize: 0 });
  return {
    threads: () => threads.size,
    sample,
    /** A full collection on every isolate of the process, then what the workflow threads still hold. */
    async collect(): Promise<{ mainHeap: number; workflowHeap: number }> {
      await Promise.all([...threads].map((t) => call(t, 'HeapProfiler.collectGarbage')));
      await new Promise<void>((resolve) => session.post('HeapProfiler.collectGarbage', () => resolve()));
      return { mainHeap: process.memoryUsage().heapUsed, workflowHeap: (await sample()).usedSize };
    },
    close: () => session.disconnect(),
  };
}

async function main(args: ScaleWorkerArgs): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const threadsBefore = fs.readdirSync('/proc/self/task').map(Number);
  const connection = await NativeConnection.connect({ address: args.address });
  // As the worker does (src/worker/worker.ts); the 'before' arm leaves V8's own heap limit and escape analysis.
  applyV8Flags(args.tuning);
  const worker = await Worker.create({
    connection,
    namespace: args.namespace,
    taskQueue: args.taskQueue,
    workflowBundle: { codePath: args.bundleFile },
    activities: withSparkDuration(fakeActivities().activities, args.sparkMs),
    ...workerTuning(args.tuning),
  });
  const heaps = workerThreadHeaps();
  const peak = { mainHeap: 0, mainHeapCommitted: 0, workflowHeap: 0, workflowHeapCommitted: 0, workflowThreads: 0, external: 0, arrayBuffers: 0 };
  let sampling = false;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.mainHeap = Math.max(peak.mainHeap, m.heapUsed);
    peak.mainHeapCommitted = Math.max(peak.mainHeapCommitted, m.heapTotal);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
    peak.workflowThreads = Math.max(peak.workflowThreads, heaps.threads());
    if (sampling) return;
    sampling = true;
    void heaps
      .sample()
      .then((usage) => {
        peak.workflowHeap = Math.max(peak.workflowHeap, usage.usedSize);
        peak.workflowHeapCommitted = Math.max(peak.workflowHeapCommitted, usage.totalSize);
      })
      .finally(() => (sampling = false));
  }, 250);
  process.on('message', (message) => {
    if (message === 'stop') worker.shutdown();
    if (message === 'measure') void heaps.collect().then((r) => send({ kind: 'retained', retained: { ...r, rss: process.memoryUsage().rss } }));
  });
  const elu = performance.eventLoopUtilization();
  const running = worker.run();
  send({ kind: 'ready', threadsBefore });
  await running;
  clearInterval(sampler);
  const report: ScaleWorkerReport = {
    peakMainHeap: peak.mainHeap,
    peakWorkflowHeap: peak.workflowHeap,
    peakMainHeapCommitted: peak.mainHeapCommitted,
    peakWorkflowHeapCommitted: peak.workflowHeapCommitted,
    workflowThreads: peak.workflowThreads,
    peakExternal: peak.external,
    peakArrayBuffers: peak.arrayBuffers,
    mainEventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
  };
  heaps.close();
  send({ kind: 'report', report });
  await connection.close();
  process.disconnect?.();
}

function send(message: ScaleWorkerMessage): void {
  process.send?.(message);
}

main(JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerArgs).catch((err) => {
  console.error(err);
  process.exit(1);
});
