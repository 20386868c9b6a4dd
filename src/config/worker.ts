import path from 'node:path';
import { z } from 'zod';
import { bool, interval, listenAddress, positive, problem } from './parsers';

/** The worker process: its data, its reporting store, its limits, logs, metrics and health, the janitor's rhythm. */
export const WorkerEnv = z.object({
  NIGHTJAR_DATA_DIR: z.string().min(1).default('.data'),
  NIGHTJAR_REPORTING_STORE: z.enum(['pglite', 'postgres']).default('pglite'),
  NIGHTJAR_REPORTING_PG_URL: z.string().optional(),
  NIGHTJAR_REPORTING_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR').default('EUR'),
  NIGHTJAR_JANITOR_EVERY_SECONDS: interval.default(0),
  NIGHTJAR_JANITOR_MIN_AGE_SECONDS: positive.default(1800),
  NIGHTJAR_WORKER_MAX_ACTIVITIES: positive.default(200),
  NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS: positive.default(250),
  NIGHTJAR_WORKER_MAX_WORKFLOW_TASKS: positive.default(20),
  NIGHTJAR_WORKER_WORKFLOW_TASK_POLLS: positive.default(10),
  NIGHTJAR_WORKER_ACTIVITY_TASK_POLLS: positive.default(10),
  NIGHTJAR_WORKER_WORKFLOW_THREADS: positive.default(1),
  NIGHTJAR_WORKER_WORKFLOW_HEAP_MB: z.coerce.number({ message: 'expected a number of MiB' }).int().min(64, 'must be at least 64 MiB').default(256),
  NIGHTJAR_WORKER_V8_ESCAPE_ANALYSIS: bool.default(false),
  NIGHTJAR_METRICS_ADDRESS: listenAddress.default('127.0.0.1:9464'),
  NIGHTJAR_HEALTH_ADDRESS: listenAddress.optional(),
  NIGHTJAR_SHUTDOWN_GRACE_SECONDS: positive.default(30),
  NIGHTJAR_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  NIGHTJAR_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  NIGHTJAR_LOG_REDACT: bool.default(true),
});
type Env = z.output<typeof WorkerEnv>;

export type ReportingConfig = { readonly kind: 'pglite'; readonly dataDir: string } | { readonly kind: 'postgres'; readonly url: string };

export interface WorkerConfig {
  readonly maxConcurrentActivities: number;
  /**
   * Workflows kept in memory between their tasks (sticky cache). A night holds two at a time
   * (the night and its running Spark job); the SDK's default grows with the heap limit
   * (about 2,300 with a 4 GiB heap), far past what a worker runs at once. Each cached workflow
   * keeps about 0.7 MiB live on the workflow thread's heap, so the cache must fit workflowHeapMb.
   */
  readonly maxCachedWorkflows: number;
  /** Workflow tasks run at once (at most the cache size). */
  readonly maxConcurrentWorkflowTasks: number;
  /** Long polls for workflow tasks held open at once (at least 2, at most the workflow tasks at once). */
  readonly maxWorkflowTaskPolls: number;
  /** Long polls for activity tasks held open at once (at most the activities at once). */
  readonly maxActivityTaskPolls: number;
  /** Threads running workflow code (each with its own V8 heap and reused context). */
  readonly workflowThreads: number;
  /**
   * The old-generation limit of each workflow thread's V8 heap, MiB. Without it V8 sizes the
   * limit from the machine's memory and collects lazily: the heap fills with garbage long before
   * a collection (436 MiB used, 106 MiB live, in the 600-night bench). It must hold the cache:
   * 26 MiB idle and 0.5–0.7 MiB per cached workflow were measured; the start check asks for
   * 32 + 0.7 MiB per cached workflow (workflowHeapNeededMb).
   */
  readonly workflowHeapMb: number;
  /**
   * Whether V8's optimizing compiler runs escape analysis (V8's own default: on). Off by default:
   * each new workflow evaluates the workflow bundle's modules again (the SDK's per-workflow module
   * cache), so zod's module functions become hot and are optimized, and escape analysis over those
   * functions of thousands of lines took over 300 MiB of compiler memory at once (a native heap
   * profile of the 600-night bench). Off, the worker's peak RSS fell from 739 to 464 MiB there.
   */
  readonly v8EscapeAnalysis: boolean;
  /** How long activities get to finish after SIGTERM before they are handed back to the server. */
  readonly shutdownGraceSeconds: number;
  /** A workflow bundle prebuilt at image build time; workflows are bundled from source when absent. */
  readonly workflowBundle?: string;
}

/** What a workflow thread's heap must hold: idle (26 MiB measured, with room) and per cached workflow (0.5–0.7 MiB measured; README, "The worker's own weight"). */
const WORKFLOW_HEAP_IDLE_MB = 32;
const WORKFLOW_HEAP_PER_CACHED_MB = 0.7;

/** The smallest workflow-thread heap that holds a full cache of this size, MiB. */
export function workflowHeapNeededMb(cachedWorkflows: number): number {
  return Math.ceil(WORKFLOW_HEAP_IDLE_MB + WORKFLOW_HEAP_PER_CACHED_MB * cachedWorkflows);
}

export function checkWorkerEnv(env: Env, ctx: z.RefinementCtx): void {
  const needed = workflowHeapNeededMb(env.NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS);
  if (env.NIGHTJAR_WORKER_WORKFLOW_HEAP_MB < needed) {
    problem(ctx, 'NIGHTJAR_WORKER_WORKFLOW_HEAP_MB', `a cache of ${env.NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS} workflows needs about ${needed} MiB: raise it or lower NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS`);
  }
  if (env.NIGHTJAR_REPORTING_STORE === 'postgres' && !env.NIGHTJAR_REPORTING_PG_URL) {
    problem(ctx, 'NIGHTJAR_REPORTING_PG_URL', 'required when NIGHTJAR_REPORTING_STORE=postgres (e.g. postgres://user:pass@host:5432/db)');
  }
}

export function workerConfig(e: Env, repoRoot: string, dataDir: string) {
  // The SDK needs at least two workflow task slots when it caches workflows.
  const workflowTasks = Math.max(2, Math.min(e.NIGHTJAR_WORKER_MAX_WORKFLOW_TASKS, e.NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS));
  return {
    observability: {
      ...(e.NIGHTJAR_METRICS_ADDRESS !== undefined ? { metricsAddress: e.NIGHTJAR_METRICS_ADDRESS } : {}),
      ...(e.NIGHTJAR_HEALTH_ADDRESS !== undefined ? { healthAddress: e.NIGHTJAR_HEALTH_ADDRESS } : {}),
    },
    reporting: (e.NIGHTJAR_REPORTING_STORE === 'postgres'
      ? { kind: 'postgres', url: e.NIGHTJAR_REPORTING_PG_URL as string }
      : { kind: 'pglite', dataDir: path.join(dataDir, 'reporting', 'pglite') }) satisfies ReportingConfig as ReportingConfig,
    reportingCurrency: e.NIGHTJAR_REPORTING_CURRENCY,
    log: { level: e.NIGHTJAR_LOG_LEVEL, redact: e.NIGHTJAR_LOG_REDACT },
    janitor: { everySeconds: e.NIGHTJAR_JANITOR_EVERY_SECONDS, minAgeSeconds: e.NIGHTJAR_JANITOR_MIN_AGE_SECONDS },
    worker: {
      maxConcurrentActivities: e.NIGHTJAR_WORKER_MAX_ACTIVITIES,
      maxCachedWorkflows: e.NIGHTJAR_WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: workflowTasks,
      maxWorkflowTaskPolls: Math.max(2, Math.min(e.NIGHTJAR_WORKER_WORKFLOW_TASK_POLLS, workflowTasks)),
      maxActivityTaskPolls: Math.min(e.NIGHTJAR_WORKER_ACTIVITY_TASK_POLLS, e.NIGHTJAR_WORKER_MAX_ACTIVITIES),
      workflowThreads: e.NIGHTJAR_WORKER_WORKFLOW_THREADS,
      workflowHeapMb: e.NIGHTJAR_WORKER_WORKFLOW_HEAP_MB,
      v8EscapeAnalysis: e.NIGHTJAR_WORKER_V8_ESCAPE_ANALYSIS,
      shutdownGraceSeconds: e.NIGHTJAR_SHUTDOWN_GRACE_SECONDS,
      ...(e.NIGHTJAR_WORKFLOW_BUNDLE !== undefined ? { workflowBundle: path.resolve(repoRoot, e.NIGHTJAR_WORKFLOW_BUNDLE) } : {}),
    } satisfies WorkerConfig,
  };
}
