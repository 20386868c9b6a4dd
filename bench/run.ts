/**
 * Runs every benchmark once and prints Markdown for the README's "Measured results".
 * Usage: npm run bench [-- [--quick] [--sizes=N,...] [--before=SPARK_DIR] [--keep] [name ...]]   (needs `npm run bootstrap`; PostgreSQL via
 * scripts/postgres.sh for `export`). Names select benchmarks, e.g. `npm run bench -- kubernetes`;
 * none runs them all.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { loadConfig } from '../src/config/config';
import { fakeActivities } from '../test/helpers/fake-activities';
import { benchCodec } from './codec';
import { benchExport } from './export';
import { benchGenerate } from './generate';
import { benchKubernetes } from './kubernetes';
import { benchOrchestration } from './orchestration';
import { benchPlane } from './plane';
import { benchScale } from './scale';
import { scaleArms } from './scale-arms';
import { benchSpark, benchSparkProfile, currentArm, renderActions, type SparkArm, renderDigestCheck, renderSparkProfile } from './spark';
import { benchSparkSubmit } from './spark-submit';
import { benchSubmitLauncher } from './submit-launcher';

/**
 * The SDK's warnings and errors. Workflow code's own lines (benchmarked jobs narrating their OOM
 * escalations, by design) only from errors up, so they do not bury the tables.
 */
class BenchLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (meta?.sdkComponent === 'workflow' && level !== 'ERROR') return;
    super.log(level, message, meta);
  }
}

const BENCHMARKS = ['generate', 'export', 'orchestration', 'codec', 'spark', 'kubernetes', 'scale', 'plane', 'spark-submit', 'submit-launcher'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

/** The benchmarks named on the command line, or all of them. */
function selected(args: readonly string[]): ReadonlySet<BenchmarkName> {
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  return new Set(names.length > 0 ? (names as BenchmarkName[]) : BENCHMARKS);
}

/** This run's working files; removed when it ends, however it ends, unless `--keep` (printed then). */
const SCRATCH = path.join(os.tmpdir(), `nightjar-bench-${process.pid}`);
const KEEP = process.argv.includes('--keep');

async function main() {
  Runtime.install({ logger: new BenchLogger('WARN') });
  const quick = process.argv.includes('--quick');
  const run = selected(process.argv.slice(2));
  const repoRoot = process.cwd();
  const config = loadConfig(process.env, repoRoot);
  const pgUrl = () => process.env.NIGHTJAR_TEST_PG_URL ?? execFileSync('bash', ['scripts/postgres.sh'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const out: string[] = [];
  const say = (s: string) => {
    out.push(s);
    console.log(s);
  };
  say(`Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);

  if (run.has('generate')) {
    const gen = await benchGenerate({ dir: SCRATCH, transactions: quick ? 200_000 : 1_000_000 });
    say('**Feed generation and ingest check**\n');
    say('| transactions | generate (all 5 feeds) | rows/s | inspect transactions file | lines/s | ingest pass (inspect + row screen + quarantine + raw copy) | lines/s | ratio | peak RSS |');
    say('|---|---|---|---|---|---|---|---|---|');
    say(`| ${gen.transactions.toLocaleString('en-US')} | ${gen.generate.seconds.toFixed(2)} s | ${Math.round(gen.generate.rowsPerSecond).toLocaleString('en-US')} | ${gen.inspect.seconds.toFixed(2)} s | ${Math.round(gen.inspect.linesPerSecond).toLocaleString('en-US')} | ${gen.ingestPass.seconds.toFixed(2)} s (${gen.ingestPass.rejected.toLocaleString('en-US')} rows quarantined) | ${gen.ingestPass.linesPerSecond.toLocaleString('en-US')} | ${(gen.ingestPass.seconds / gen.inspect.seconds).toFixed(1)} | ${Math.round(gen.peakRssMb)} MiB |\n`);
  }

  if (run.has('export')) {
    const exp = await benchExport({ pgUrl: pgUrl(), rows: quick ? 200_000 : 1_000_000, dir: SCRATCH });
    say('**Export into PostgreSQL** (same CSV, same run)\n');
    say('| rows | Nightjar store (one transaction, COPY, checks) | `psql \\copy` | ratio | PGlite (embedded) |');
    say('|---|---|---|---|---|');
    say(`| ${exp.rows.toLocaleString('en-US')} | ${Math.round(exp.store.rowsPerSecond).toLocaleString('en-US')} rows/s | ${Math.round(exp.psql.rowsPerSecond).toLocaleString('en-US')} rows/s | ${exp.ratio.toFixed(3)} | ${Math.round(exp.pglite.rowsPerSecond).toLocaleString('en-US')} rows/s |\n`);
  }

  if (run.has('plane')) {
    const plane = await benchPlane({ repoRoot, rebuild: !quick });
    const rss = Object.entries(plane.rssMb);
    say('**The local Kubernetes control plane** (`scripts/k8s.sh`; etcd, kube-apiserver, controller-manager, scheduler, kwok)\n');
    say(`| start, binaries present | rebuild, warm Go caches | ${rss.map(([name]) => `RSS ${name}`).join(' | ')} | RSS total |`);
    say(`|---|---|${rss.map(() => '---|').join('')}---|`);
    say(`| ${plane.startSeconds.toFixed(1)} s | ${plane.rebuildSeconds === undefined ? '—' : `${plane.rebuildSeconds.toFixed(0)} s`} | ${rss.map(([, mb]) => `${mb} MiB`).join(' | ')} | ${rss.reduce((sum, [, mb]) => sum + mb, 0)} MiB |\n`);
  }

  if (run.has('orchestration')) {
    const orch = await benchOrchestration({ repoRoot, nights: quick ? 5 : 20, stepMs: 50, fakes: () => fakeActivities().activities });
    say('**Orchestration overhead** (dev server, every step a fixed 50 ms, median night)\n');
    say('| nights | activities / night | wall / night | busy time / night | same steps called directly | overhead / night | step transition p50 | p99 |');
    say('|---|---|---|---|---|---|---|---|');
    say(`| ${orch.nights} | ${orch.activitiesPerNight} | ${orch.wallPerNightMs} ms | ${orch.activityTimePerNightMs} ms | ${orch.directPerNightMs} ms | ${orch.overheadPerNightMs} ms | ${orch.transitionP50Ms} ms | ${orch.transitionP99Ms} ms |\n`);
  }

  if (run.has('codec')) {
    const c = await benchCodec({ repoRoot, nights: quick ? 5 : 20, iterations: quick ? 2_000 : 20_000, fakes: () => fakeActivities().activities });
    say('**Encryption cost: AES-256-GCM payload codec** (per payload: JSON conversion alone vs conversion + encrypt + decrypt)\n');
    say('| payload | plain | encrypted | ratio | bytes added |');
    say('|---|---|---|---|---|');
    for (const p of c.payloads) say(`| ${p.bytes.toLocaleString('en-US')} B | ${p.plainUs} µs | ${p.encryptedUs} µs | ${p.ratio} | ${p.sizeOverheadBytes} |`);
    say('');
    say(`Whole nights on the dev server, fake activities returning at once, plain and encrypted nights interleaved (median of ${c.nights}):\n`);
    say('| night, plain | night, encrypted | ratio | history, plain | history, encrypted |');
    say('|---|---|---|---|---|');
    say(`| ${c.plainNightMs} ms | ${c.encryptedNightMs} ms | **${c.nightRatio}** | ${Math.round(c.plainHistoryBytes / 1024)} KiB | ${Math.round(c.encryptedHistoryBytes / 1024)} KiB |\n`);
  }

  if (run.has('spark')) {
    // `--sizes=1000000` runs only the sizes named (transactions) and not the demo's profile: one at a time on a busy machine.
    const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
    const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : quick ? [] : [1_000_000, 5_000_000];
    if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes takes transaction counts, e.g. --sizes=1000000,5000000`);
    // `--before=DIR`: an older checkout's `spark/` jobs, run with no driver JVM options (the launcher
    // before they existed), interleaved with this checkout's in the same run.
    const beforeArg = process.argv.find((a) => a.startsWith('--before='));
    // `--before-launcher=same`: the older jobs with this checkout's launcher settings (compares the jobs alone).
    const sameLauncher = process.argv.includes('--before-launcher=same');
    // `--before-launcher-json={"longJob": {"javaOptions": []}}`: launcher settings of the older side over the
    // above (compares launcher settings, e.g. the JVM options of an earlier default).
    const beforeJson = process.argv.find((a) => a.startsWith('--before-launcher-json='))?.slice('--before-launcher-json='.length);
    const sparkBefore = beforeArg
      ? {
          before: {
            ...(sameLauncher ? currentArm(config) : { driverJavaOptions: [] }),
            ...(beforeJson !== undefined ? (JSON.parse(beforeJson) as Partial<SparkArm>) : {}),
            name: 'before',
            jobsDir: path.resolve(beforeArg.slice('--before='.length)),
          },
        }
      : {};
    // `--warm`: a second arm at the demo's size, this checkout's jobs as sessions of a warm driver.
    const warmArm = process.argv.includes('--warm') ? { warm: { ...currentArm(config), name: 'warm', warm: true } } : {};
    if (!sizesArg) {
      // The demo's default night (`nightjar demo`: 20,000 transactions, seed 42, 0.5 % defects).
      const demo = await benchSparkProfile(config, { dir: path.join(SCRATCH, 'spark-demo'), transactions: 20_000, seed: 42, defectRate: 0.005, driverMemoryMb: config.spark.defaults.normalize.driverMemoryMb, keep: KEEP, ...sparkBefore, ...warmArm });
      say(`**Spark at the demo's default size** (${demo.inputRows.toLocaleString('en-US')} input rows; local[${config.spark.defaults.normalize.driverCores}], spark-submit, driver ${demo.driverMemoryMb} MiB; every attempt profiled from its event log, floors in the same run)\n`);
      for (const line of renderSparkProfile(demo)) say(line);
      say('');
    }
    if (sizes.length > 0) {
      say('**Spark normalize + transform** (local[2], spark-submit, JVM start included; copy job over the same feeds in the same run)\n');
      say('| transactions | input rows (5 feeds) | driver | arm | normalize | transform | total | input rows/s | copy job | ratio |');
      say('|---|---|---|---|---|---|---|---|---|---|');
    }
    const checks: string[] = [];
    const profiles: string[] = [];
    for (const transactions of sizes) {
      const s = await benchSpark(config, { dir: path.join(SCRATCH, `spark-${transactions}`), transactions, driverMemoryMb: 4096, keep: KEEP, ...sparkBefore });
      checks.push(renderDigestCheck(s.digests));
      for (const a of s.arms) {
        profiles.push(...renderActions(a.profiles));
        say(`| ${s.transactions.toLocaleString('en-US')} | ${s.inputRows.toLocaleString('en-US')} | ${s.driverMemoryMb} MiB | ${a.arm} | ${a.normalizeSeconds} s | ${a.transformSeconds} s | ${a.totalSeconds} s | ${a.inputRowsPerSecond.toLocaleString('en-US')} | ${a.copySeconds} s | **${a.copyRatio}** |`);
      }
    }
    say('');
    for (const line of profiles) say(line);
    if (profiles.length > 0) say('');
    for (const check of checks) say(`${check}\n`);
  }

  if (run.has('kubernetes')) {
    const k = await benchKubernetes({ repoRoot, oomJobs: quick ? 5 : 20, executorOomAfterMs: 500, concurrentJobs: quick ? 50 : 200, runMs: 5000 });
    const n = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : String(v));
    const ms = (p: { p50: number; p95: number; max: number }) => `${n(p.p50)} / ${n(p.p95)} / ${n(p.max)} ms`;
    const { oom, many } = k;
    say(`**Kubernetes: OOM reaction** (dev server, the local control plane + the operator stand-in, executor OOMKilled ${oom.executorOomAfterMs} ms after start, OOM limit 1; ${oom.jobs} sequential jobs after a warm-up; p50 / p95 / max)\n`);
    say('| executor OOM → attempt 2 created | OOM → attempt stopped (watch, classify, DELETE) | stopped → await returned | await → cleanup started | cleanup | cleanup → next submit | submit → created | watch connections opened |');
    say('|---|---|---|---|---|---|---|---|');
    const st = oom.stages;
    say(`| **${ms(oom.total)}** | ${ms(st.oomToStopped)} | ${ms(st.stoppedToAwaitReturned)} | ${ms(st.awaitToCleanupStart)} | ${ms(st.cleanup)} | ${ms(st.cleanupToSubmit)} | ${ms(st.submitToCreated)} | ${oom.watchesOpened} |\n`);
    const verbs = Object.entries(many.requestsByVerb)
      .sort((a, b) => b[1] - a[1])
      .map(([verb, count]) => `${verb} ${count.toLocaleString('en-US')}`)
      .join(', ');
    say(`**Kubernetes: many applications at once** (${many.jobs} concurrent \`sparkJob\` workflows, one worker, driver runs ${many.runMs} ms)\n`);
    say('| jobs | one job alone | wall, first start → last result | wall / one job | job latency p50 / p95 / max | peak watch connections | API requests (per job) | RSS baseline → peak | heap baseline → peak | objects left | succeeded |');
    say('|---|---|---|---|---|---|---|---|---|---|---|');
    say(`| ${many.jobs} | ${n(many.singleJobMs)} ms (${n(many.overheadPerJobMs)} ms overhead) | ${many.wallMs.toLocaleString('en-US')} ms | ${many.wallOverIdeal} | ${ms(many.jobLatency)} | ${many.peakOpenWatches} | ${verbs} (${many.requestsPerJob}) | ${many.baselineRssMb} → ${many.peakRssMb} MiB | ${many.baselineHeapMb} → ${many.peakHeapMb} MiB | ${many.leftoverObjects} (reported by cleanups: ${many.leftoversReported}) | ${many.succeeded} / ${many.jobs} |\n`);
    const sp = (p: { p50: number; max: number }) => `${n(p.p50)} / ${n(p.max)} ms`;
    const g = many.stages;
    say(`Where a job's time went in the burst (p50 / max); this process (worker, fault proxy, operator stand-in; the API server runs apart) used ${many.workerCpuCores} cores, event-loop delay p99 ${many.eventLoopDelayP99Ms} ms, max ${many.eventLoopDelayMaxMs} ms:\n`);
    say(`| start → submit started | → SparkApplication created | → driver running | → completed (driver runs ${many.runMs} ms) | → await returned | → cleanup started | cleanup | → result at the client |`);
    say('|---|---|---|---|---|---|---|---|');
    say(`| ${sp(g.startToSubmit)} | ${sp(g.submitToCreated)} | ${sp(g.createdToDriverRunning)} | ${sp(g.driverRunningToCompleted)} | ${sp(g.completedToAwaitReturned)} | ${sp(g.awaitToCleanupStart)} | ${sp(g.cleanup)} | ${sp(g.cleanupToResult)} |\n`);
  }

  if (run.has('spark-submit')) {
    const r = await benchSparkSubmit(config, { dir: path.join(SCRATCH, 'spark-submit'), transactions: 3_000, repoRoot });
    say(`**Spark on the local plane, spark-submit mode, against local[2]** (${r.transactions.toLocaleString('en-US')} transactions, ${r.inputRows.toLocaleString('en-US')} input rows; the configured sizes; pods as real JVMs of the local container runtime; one run)\n`);
    say('| local[2] normalize + transform | plane normalize + transform | ratio | pods | reports equal | executor OOM: submit → stopped (executors lost) | stopped → cleaned + resubmitted | attempt 2 (1 GiB executors) | objects left | worker + runtime peak RSS | plane RSS |');
    say('|---|---|---|---|---|---|---|---|---|---|---|');
    say(
      `| ${r.local.normalizeSeconds} + ${r.local.transformSeconds} = ${r.local.totalSeconds} s | ${r.plane.normalizeSeconds} + ${r.plane.transformSeconds} = ${r.plane.totalSeconds} s | **${r.ratio}** | ${r.plane.pods} | ${r.reportsEqual ? 'yes' : 'NO'} | ` +
        `${r.oom.submitToStoppedSeconds} s (${r.oom.lostExecutors}) | ${r.oom.stoppedToResubmittedSeconds} s | ${r.oom.secondAttemptSeconds} s, ${r.oom.secondSucceeded ? 'succeeded' : 'FAILED'} | ${r.objectsLeft} | ${r.workerPeakRssMb} MiB | ${r.planeRssMb} MiB |\n`,
    );
  }

  if (run.has('submit-launcher')) {
    const r = await benchSubmitLauncher(config, { dir: path.join(SCRATCH, 'submit-launcher'), rounds: quick ? 2 : 4 });
    say(`**spark-submit's own JVM, one submission to the local plane** (spark-submit mode: the driver pod created, spark-submit exited; ${r.rounds} rounds, the arms alternated; launcher settings = \`${r.javaOptions.join(' ')}\` and the class-data archive)\n`);
    say('| arm | wall per submission (ms) | CPU per submission (s, spark-submit and its JVMs) |');
    say('|---|---|---|');
    for (const a of r.arms) say(`| ${a.arm} | ${a.wallMs.join(', ')} | ${a.cpuSeconds.join(', ')} |`);
    say(`\nMedian ratio, JVM defaults over launcher settings: **wall ${r.medianWallRatio}**, CPU ${r.medianCpuRatio}.\n`);
  }

  if (run.has('scale')) {
    // `--scale-size=TENANTSxDAYS` (e.g. 10x6) for a quicker look; `--scale-arms=a,b` picks the set-ups (SCALE_ARMS).
    const sizeArg = process.argv.find((a) => a.startsWith('--scale-size='))?.slice('--scale-size='.length);
    const [tenants, businessDays] = sizeArg ? sizeArg.split('x').map(Number) : quick ? [4, 5] : [20, 30];
    if (!Number.isInteger(tenants) || !Number.isInteger(businessDays)) throw new Error('--scale-size takes TENANTSxDAYS, e.g. --scale-size=10x6');
    const armsArg = process.argv.find((a) => a.startsWith('--scale-arms='))?.slice('--scale-arms='.length);
    const arms = scaleArms(config.worker, armsArg ? armsArg.split(',') : ['before', 'configured']);
    const r = await benchScale({ repoRoot, tenants: tenants as number, businessDays: businessDays as number, concurrencyPerTenant: 3, sparkMs: 2000, arms, onArm: (a) => console.error(`scale arm ${a.arm} done: ${JSON.stringify(a)}`) });
    say(`**Scale: backfill ${r.businessDays} business days × ${r.tenants} tenants** (dev server, one worker process per arm, real backfill and triggers, fake activities, Spark step ${r.sparkStepMs} ms, at most ${r.concurrency} nights at once; arms one after the other, each with a fresh dev server)\n`);
    say(`| arm | tuning | nights | one night alone | wall | ideal | wall / ideal | night p50 / p99 | worker peak RSS (sampled highest: anonymous + file-backed) | worker heaps, peak used (committed): main / workflow threads (count); main's external memory | after a full GC, idle → mid-run: main / workflow heap, RSS | client peak RSS | CPU s: dev server / worker / client | CPU per night (all of it over ${os.cpus().length} cores / ideal) | load avg (start → end) | history events (median / max) | not completed |`);
    say('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const a of r.arms) {
      const arm = arms.find((x) => x.name === a.arm);
      const t = arm?.tuning;
      const tuning = t ? `cache ${t.maxCachedWorkflows}, wft ${t.maxConcurrentWorkflowTasks}/${t.maxWorkflowTaskPolls} polls, act ${t.maxConcurrentActivities}/${t.maxActivityTaskPolls} polls, ${t.workflowThreads} thread, workflow heap ${t.workflowHeapMb > 0 ? `${t.workflowHeapMb} MiB` : 'V8 default'}, escape analysis ${t.v8EscapeAnalysis ? 'on' : 'off'}${Object.entries(arm?.env ?? {}).map(([k, v]) => `, ${k}=${v}`).join('')}${(arm?.execArgv ?? []).map((f) => `, ${f}`).join('')}` : '';
      say(
        `| ${a.arm} | ${tuning} | ${a.nights} | ${a.singleNightMs.toLocaleString('en-US')} ms | ${a.wallMs.toLocaleString('en-US')} ms | ${a.idealWallMs.toLocaleString('en-US')} ms | **${a.wallOverIdeal}** | ${a.nightP50Ms.toLocaleString('en-US')} / ${a.nightP99Ms.toLocaleString('en-US')} ms | **${a.workerPeakRssMiB} MiB** (${a.workerRssAnonMiB} + ${a.workerRssFileMiB}) | ${a.workerMainHeapMiB} (${a.workerMainHeapCommittedMiB}) / ${a.workflowHeapMiB} (${a.workflowHeapCommittedMiB}) MiB (${a.workflowThreads}); ${a.workerExternalMiB} MiB | ${[a.idle, a.retained].map((m) => (m ? `${m.mainHeapMiB} / ${m.workflowHeapMiB} MiB, ${m.rssMiB} MiB` : '—')).join(' → ')} | ${a.clientPeakRssMiB} MiB | ${a.cpuSeconds.devServer} / ${a.cpuSeconds.worker} / ${a.cpuSeconds.client} | ${a.cpuMsPerNight} ms (floor ${a.cpuFloorOverIdeal} × ideal) | ${a.loadAverage[0]} → ${a.loadAverage[1]} | ${a.historyEventsMedian} / ${a.historyEventsMax} | ${a.failed} |`,
      );
    }
    say('');
    say(`The worker's busiest threads (CPU s over its life): ${r.arms.map((a) => `${a.arm}: ${a.workerThreads.map((t) => `${t.name} ${t.seconds}`).join(', ')}; main event loop busy ${Math.round(a.mainEventLoopUtilization * 100)} %`).join(' — ')}\n`);
  }
}

main()
  .finally(() => (KEEP ? console.error(`kept ${SCRATCH}`) : rm(SCRATCH, { recursive: true, force: true })))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
