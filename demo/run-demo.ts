import path from 'node:path';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { createKey, newKeyId } from '../src/codec/keys';
import type { NightjarConfig } from '../src/config/config';
import { ensureSearchAttributes } from '../src/infra/search-attributes';
import { DataLayout } from '../src/common/layout';
import { dailyWorkflowId, sparkJobWorkflowId } from '../src/domain/ids';
import { nightSearchAttributes } from '../src/triggers/temporal-triggers';
import type { RunManifest, SparkOverrides } from '../src/domain/pipeline';
import { generateFeeds } from './feeds/generate-feeds';
import { sidecarLine } from '../src/feeds/inspect';
import { ensureDevServer, ensureUiCodecServer, uiCodecEndpointOf } from '../src/infra/temporal-dev-server';
import { connectClient } from '../src/infra/temporal-connection';
import { createLogger } from '../src/worker/logger';
import { createNightjarWorker } from '../src/worker/worker';
import type { dailyPipeline } from '../src/workflows/daily-pipeline';
import { resolveStepUpdate, sparkJobStatusQuery, statusQuery, type ParkedStep } from '../src/workflows/messages';
import type { FeedName } from '../src/domain/feeds/catalog';
import { attentionListUrl, parkedStepName, resolveCliLine, resolveStepJson, type NightName } from '../src/domain/night-story';
import { dataDirKeysDir, devServerOptions, withDataDirKeys } from '../src/cli/context';
import { describeResources, renderSummary } from '../src/cli/render-summary';
import type { SparkPlatform } from '../src/spark/platform';
import type { DemoSizes, DemoSparkPlatform, ScenarioName } from '../src/cli/options';

export interface DemoOptions {
  readonly businessDate: string;
  readonly transactions: number;
  readonly accounts?: number;
  readonly defectRate: number;
  readonly seed: number;
  readonly driverMemoryMb?: number;
  /** Where Spark runs; local spark-submit when absent. */
  readonly sparkPlatform?: DemoSparkPlatform;
  /** Deliver this feed with a wrong trailer count, so its ingest fails and the night parks. */
  readonly breakFeed?: FeedName;
  /**
   * What the demo does when the night parks in NEEDS_ATTENTION: `auto` delivers the corrected
   * file and retries (for --break-feed) or aborts (anything else); `wait` leaves the decision to
   * you (CLI or UI); `abort` aborts.
   */
  readonly onPark?: 'auto' | 'wait' | 'abort';
  readonly json: boolean;
}

/** The file with its trailer's record count off by one: a delivery the ingest must refuse. */
export function breakTrailer(content: string): string {
  const lines = content.split('\n');
  let at = lines.length - 1;
  while (at >= 0 && !(lines[at] as string).startsWith('TRL,')) at -= 1;
  if (at < 0) throw new Error('the feed has no trailer line');
  const [tag, count, ...rest] = (lines[at] as string).split(',');
  lines[at] = [tag, String(Number(count) + 1), ...rest].join(',');
  return lines.join('\n');
}

/** What to tell an operator about a parked step: the UI steps with a valid JSON body per action, and the CLI lines. */
export function parkInstructions(parked: ParkedStep, night: NightName, links: { readonly uiLink: string; readonly attentionList: string }): string[] {
  const lines = [
    `  NEEDS ATTENTION — ${parkedStepName(parked)} failed: [${parked.error.type}] ${parked.error.message}`,
    `    nights waiting for a decision: ${links.attentionList}`,
    `    from the UI:  ${links.uiLink} → "Send an Update" → name resolveStep → one of:`,
    ...parked.actions.map((action) => `                    ${resolveStepJson(parked, action)}`),
    '    from the CLI: one of',
    ...parked.actions.map((action) => `                    node bin/${resolveCliLine(night, parked, action).replace(/^nightjar /, 'nightjar.js ')}`),
  ];
  return lines;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** What the summary says about the night's histories: encrypted, and how the UI reads them. */
export function encryptionSummary(e: { keyId: string; keysDir: string; codecServer: string; uiDecodes: boolean }): string {
  return [
    `Histories:   payloads and failure messages encrypted (AES-256-GCM, key ${e.keyId} in ${e.keysDir})`,
    `             the Web UI decodes them via the codec server ${e.codecServer}${e.uiDecodes ? '' : ' (set it in the UI: this dev server was started without it)'}`,
    '',
  ].join('\n');
}

/** The diagnostics a failed sparkJob carries in its failure details (driver log lines), if any. */
export function failureDiagnostics(error: unknown): string[] {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (!(e instanceof ApplicationFailure)) continue;
    const details: unknown = e.details?.[0];
    const diagnostics = typeof details === 'object' && details !== null ? (details as { diagnostics?: unknown }).diagnostics : undefined;
    if (Array.isArray(diagnostics)) return diagnostics.filter((d): d is string => typeof d === 'string');
  }
  return [];
}

/**
 * The demo's local Kubernetes (local-cluster/demo-cluster.ts): the project's control plane with
 * the operator/kubelet stand-in. It is demo support, not product: the bootstrap compiles it apart
 * (local-cluster/tsconfig.json) and the demo loads it at run time, only when asked for.
 */
interface DemoCluster {
  readonly platform: SparkPlatform;
  readonly namespace: string;
  readonly kubeconfig: string;
  /** What the night asks for on top of its plan (spark-submit mode's executor-oom sizes). */
  readonly sparkOverrides?: SparkOverrides;
  news(): string[];
  report(): Promise<{ readonly total: number; readonly text: string }>;
  stop(): Promise<void>;
}

interface DemoClusterModule {
  startDemoCluster(config: NightjarConfig, options: { scenario: ScenarioName; sizes: DemoSizes; logger: pino.Logger; realSpark: boolean }): Promise<DemoCluster>;
}

interface SparkSubmitDemoClusterModule {
  startSparkSubmitDemoCluster(config: NightjarConfig, options: { scenario: ScenarioName; logger: pino.Logger }): Promise<DemoCluster>;
}

/** Where the bootstrap compiles local-cluster/ (beside, never inside, what ships). */
export function demoClusterModule(repoRoot: string): string {
  return path.join(repoRoot, '.cache', 'local-cluster-build', 'local-cluster', 'demo-cluster.js');
}

/** The demo's local Kubernetes, when asked for; the Kubernetes client loads only then. */
async function startCluster(config: NightjarConfig, opts: DemoOptions, logger: pino.Logger): Promise<DemoCluster | undefined> {
  const choice = opts.sparkPlatform;
  if (choice?.kind !== 'local-kubernetes') return undefined;
  const sizes = config.spark.defaults.normalize;
  const file = demoClusterModule(config.repoRoot);
  if (!existsSync(file)) throw new Error(`${file} is missing: run 'npm run bootstrap' (it compiles local-cluster/)`);
  if (choice.submit === 'spark-submit') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startSparkSubmitDemoCluster } = require(path.join(path.dirname(file), 'spark-submit-demo-cluster.js')) as SparkSubmitDemoClusterModule;
    return startSparkSubmitDemoCluster(config, { scenario: choice.scenario, logger });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startDemoCluster } = require(file) as DemoClusterModule;
  return startDemoCluster(config, {
    scenario: choice.scenario,
    sizes: { driverMemoryMb: opts.driverMemoryMb ?? sizes.driverMemoryMb, executorMemoryMb: sizes.executorMemoryMb, memoryFactor: config.spark.escalation.memoryFactor },
    logger,
    realSpark: runsRealSpark(choice.scenario),
  });
}

/** The scenarios Spark itself plays out on the plane; the others are played by the operator stand-in. */
export function runsRealSpark(scenario: ScenarioName): boolean {
  return scenario === 'success' || scenario === 'executor-oom';
}

/**
 * Accounts the executor-oom night (real Spark, both submit modes) holds unless --accounts says otherwise: a
 * dimension the transform broadcasts to its executors, too large for the scenario's 512 MiB ones.
 */
export const EXECUTOR_OOM_ACCOUNTS = 2_000_000;

function demoAccounts(opts: DemoOptions): { accounts?: number } {
  if (opts.accounts !== undefined) return { accounts: opts.accounts };
  const p = opts.sparkPlatform;
  return p?.kind === 'local-kubernetes' && p.scenario === 'executor-oom' ? { accounts: EXECUTOR_OOM_ACCOUNTS } : {};
}

/** What the demo says about its cluster before the night starts. */
function clusterIntro(cluster: DemoCluster, choice: Extract<DemoSparkPlatform, { kind: 'local-kubernetes' }>): string[] {
  const plane = `Spark: the local Kubernetes control plane (real API server, scheduler and garbage collector; kwok nodes), namespace ${cluster.namespace}; `;
  const realPods = `real driver and executor pods run as local JVMs by the local container runtime (scenario ${choice.scenario})`;
  const how =
    choice.submit === 'spark-submit'
      ? `spark-submit's own cluster mode: ${realPods}`
      : runsRealSpark(choice.scenario)
        ? `the operator stand-in runs spark-submit in cluster mode for each SparkApplication: ${realPods}`
        : `the operator and kubelet are played (scenario ${choice.scenario}) and drivers run the jobs with local Spark`;
  const look = choice.submit === 'spark-submit' ? 'pods' : 'sparkapplications,pods';
  return [
    plane + how,
    ...(cluster.sparkOverrides?.transform ? [`  scenario sizes for transform: ${JSON.stringify(cluster.sparkOverrides.transform)} — escalation grows them within the policy's caps`] : []),
    `  kubeconfig: ${cluster.kubeconfig} — kubectl --kubeconfig ${cluster.kubeconfig} -n ${cluster.namespace} get ${look}`,
  ];
}

/** The night's Spark overrides: --driver-memory for both jobs, then the cluster scenario's sizes. */
export function nightOverrides(driverMemoryMb: number | undefined, scenario: SparkOverrides | undefined): { sparkOverrides?: SparkOverrides } {
  const overrides: SparkOverrides = {};
  for (const job of ['normalize', 'transform'] as const) {
    const merged = { ...(driverMemoryMb ? { driverMemoryMb } : {}), ...scenario?.[job] };
    if (Object.keys(merged).length > 0) overrides[job] = merged;
  }
  return Object.keys(overrides).length > 0 ? { sparkOverrides: overrides } : {};
}

/** The prefix of the key id the demo creates (once per data directory) when no encryption is configured. */
export const DEMO_KEY_PREFIX = 'demo';

/**
 * The demo always encrypts: the configured keys (or the data directory's own, see
 * withDataDirKeys), or a key created in `<dataDir>/keys` on the first run, under an id of its own
 * (`demo-<date>-<random>`): two data directories never share a key id.
 */
export function demoEncryption(config: NightjarConfig): NonNullable<NightjarConfig['encryption']> & { readonly created: boolean } {
  const configured = withDataDirKeys(config).encryption;
  if (configured !== undefined) return { ...configured, created: false };
  const keysDir = dataDirKeysDir(config.dataDir);
  const activeKeyId = newKeyId(DEMO_KEY_PREFIX);
  createKey(keysDir, activeKeyId);
  return { keysDir, activeKeyId, created: true };
}

/** The end-to-end demo: dev server, worker, generated feeds, one night, a summary. */
export async function runDemo(configured: NightjarConfig, opts: DemoOptions): Promise<number> {
  const encryption = demoEncryption(configured);
  const config: NightjarConfig = { ...configured, encryption: { keysDir: encryption.keysDir, activeKeyId: encryption.activeKeyId } };
  const layout = new DataLayout(config.dataDir);
  // The terminal shows the story of the night; the worker's structured log goes to a file.
  const logFile = path.join(config.dataDir, 'logs', 'demo-worker.log');
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const logger = createLogger({ ...config.log, destination: pino.destination({ dest: logFile, sync: false }) });
  const out = (s: string) => {
    if (!opts.json) process.stdout.write(s + '\n');
  };
  const { uiPort } = devServerOptions(config, logger);
  if (encryption.created) out(`Created the demo's encryption key ${path.join(encryption.keysDir, encryption.activeKeyId)}`);
  // The UI decodes through a codec server on loopback; the browser's page origin must be allowed.
  const uiOrigins = [...new Set([...config.codecServer.corsOrigins, `http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`])];
  const codecServer = await ensureUiCodecServer({
    nightjarBin: path.join(config.repoRoot, 'bin', 'nightjar.js'),
    dbFile: layout.temporalDbFile(),
    host: '127.0.0.1',
    port: config.codecServer.port,
    env: {
      NIGHTJAR_DATA_DIR: config.dataDir,
      NIGHTJAR_ENCRYPTION_KEYS_DIR: encryption.keysDir,
      NIGHTJAR_ENCRYPTION_KEY_ID: encryption.activeKeyId,
      NIGHTJAR_CODEC_CORS_ORIGINS: uiOrigins.join(','),
      // The dev UI cannot send a bearer token; loopback without tokens is what the server allows.
      NIGHTJAR_CODEC_TOKENS: '',
    },
    logFile: path.join(config.dataDir, 'logs', 'codec-server.log'),
    logger,
    requiredKeyId: encryption.activeKeyId,
    keysDir: encryption.keysDir,
  });
  const server = await ensureDevServer({ ...devServerOptions(config, logger), uiCodecEndpoint: codecServer.url });
  out(`Temporal dev server ${server.startedHere ? 'started' : 'reused'} at ${server.address}; Web UI ${server.uiUrl}`);
  out(`Codec server ${codecServer.startedHere ? 'started' : 'reused'} at ${codecServer.url}: the Web UI shows payloads decrypted through it`);
  const uiEndpoint = server.startedHere ? codecServer.url : await uiCodecEndpointOf(server.uiUrl);
  const uiDecodes = uiEndpoint === codecServer.url;
  if (!uiDecodes) {
    out(
      `  the dev server was already running${uiEndpoint ? ` with codec endpoint ${uiEndpoint}` : uiEndpoint === '' ? ' without a codec endpoint' : ''}: its UI cannot be re-pointed.` +
        ` Set ${codecServer.url} in the UI's codec server settings, or run 'node bin/nightjar.js server stop' and the demo again`,
    );
  }
  out(`Worker log: ${logFile}`);

  const session = await connectClient(config);
  const { connection, client } = session;
  let cluster: DemoCluster | undefined;
  let nightjar: Awaited<ReturnType<typeof createNightjarWorker>> | undefined;
  let running: Promise<void> | undefined;
  try {
    // A server started before the workflows used search attributes does not know them yet.
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length > 0) out(`Registered search attributes: ${added.join(', ')}`);

    const generated = await generateFeeds({
      landingDir: layout.landingDir(opts.businessDate),
      businessDate: opts.businessDate,
      seed: opts.seed,
      transactions: opts.transactions,
      ...demoAccounts(opts),
      defectRate: opts.defectRate,
    });
    out(`Generated feeds for ${opts.businessDate}: ${generated.feeds.map((f) => `${f.feed} ${fmt(f.rows)}`).join(', ')}`);
    let corrected: { file: string; content: string; sidecar: string | undefined } | undefined;
    if (opts.breakFeed) {
      const file = layout.landingFile(opts.businessDate, opts.breakFeed);
      const content = await fs.readFile(file, 'utf8');
      const sidecar = await fs.readFile(`${file}.sha256`, 'utf8').catch(() => undefined);
      const broken = breakTrailer(content);
      await fs.writeFile(file, broken);
      // The sender's checksum matches what it sent, so the ingest refuses the trailer count (not the checksum).
      if (sidecar !== undefined) await fs.writeFile(`${file}.sha256`, sidecarLine(createHash('sha256').update(broken).digest('hex'), path.basename(file)));
      corrected = { file, content, sidecar };
      out(`Delivered ${opts.breakFeed} with a wrong trailer count: its ingest will be refused and the night will park`);
    }

    cluster = await startCluster(config, opts, logger);
    if (cluster && opts.sparkPlatform?.kind === 'local-kubernetes') {
      for (const line of clusterIntro(cluster, opts.sparkPlatform)) out(line);
    }
    nightjar = await createNightjarWorker(config, logger, cluster ? { overrides: { platform: cluster.platform } } : {});
    running = nightjar.run();

    // The night of the configured tenant (NIGHTJAR_TENANT), on its task queue, listed from the start.
    const night = { businessDate: opts.businessDate, tenant: config.tenant };
    const workflowId = dailyWorkflowId(night.businessDate, night.tenant);
    const handle = await client.workflow.start<typeof dailyPipeline>('dailyPipeline', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      typedSearchAttributes: nightSearchAttributes(night),
      args: [{ ...night, ...nightOverrides(opts.driverMemoryMb, cluster?.sparkOverrides) }],
      // A demo re-run of a date replaces it (idempotent export); a running one is joined.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Demo night for business date ${opts.businessDate}${config.tenant === 'default' ? '' : ` (tenant ${config.tenant})`}`,
    });
    const uiLink = `${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
    const attentionList = attentionListUrl(server.uiUrl, config.temporal.namespace);
    out(`Started ${workflowId} — follow it in the UI: ${uiLink}`);

    const printed = new Set<string>();
    let watching = true;
    // A query answered after the night ended must not print below the summary.
    const once = (line: string) => {
      if (watching && !printed.has(line)) out(line);
      printed.add(line);
    };
    const printCluster = () => {
      for (const line of cluster?.news() ?? []) out(line);
    };
    let answered: string | undefined;
    /** The demo's own answer to a parked night (see DemoOptions.onPark). */
    const onParked = async (parked: ParkedStep) => {
      for (const line of parkInstructions(parked, { tenant: config.tenant, businessDate: opts.businessDate }, { uiLink, attentionList })) out(line);
      const mode = opts.onPark ?? 'auto';
      if (mode === 'wait') {
        out('    the demo waits for your decision');
        return;
      }
      const fixable = mode === 'auto' && corrected !== undefined && parked.step === 'ingest' && parked.feed === opts.breakFeed;
      if (fixable && corrected) {
        out(`    the demo delivers the corrected ${parked.feed} file and sends: resolveStep retry`);
        await fs.writeFile(corrected.file, corrected.content);
        if (corrected.sidecar !== undefined) await fs.writeFile(`${corrected.file}.sha256`, corrected.sidecar);
        await handle.executeUpdate(resolveStepUpdate, { args: [{ step: parked.step, feed: parked.feed, action: 'retry', reason: 'corrected file delivered', by: 'demo' }] });
      } else {
        out('    the demo sends: resolveStep abort (run with --on-park wait to decide yourself)');
        await handle.executeUpdate(resolveStepUpdate, {
          args: [{ step: parked.step, ...(parked.feed ? { feed: parked.feed } : {}), action: 'abort', reason: 'demo', by: 'demo' }],
        });
      }
    };
    const poll = setInterval(() => {
      printCluster();
      void (async () => {
        const s = await handle.query(statusQuery);
        once(`  … ${s.stage}`);
        // Each park is answered once (the same park keeps its `since`).
        if (s.parked && s.parked.since !== answered) {
          answered = s.parked.since;
          await onParked(s.parked);
        }
        if (s.stage === 'normalize' || s.stage === 'transform') {
          const job = await client.workflow.getHandle(sparkJobWorkflowId(workflowId, s.stage)).query(sparkJobStatusQuery);
          for (const a of job.attempts) {
            const asked = a.resources ? ` (${describeResources(a.resources)})` : '';
            once(`    ${job.job} attempt ${a.attempt}${asked}: ${a.outcome}${a.oomSide ? ` (${a.oomSide})` : ''}${a.reason ? ` — ${a.reason}` : ''}`);
          }
          if (job.current) once(`    ${job.job} attempt ${job.current.attempt} ${job.current.state.toLowerCase()}`);
        }
      })().catch(() => undefined);
    }, 1000);
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    watching = false;
    clearInterval(poll);
    printCluster();
    const failed = failure !== undefined;
    const diagnostics = failure === undefined ? [] : failureDiagnostics(failure.err);
    if (failure !== undefined) out(`The night did not complete: ${failure.err instanceof Error ? failure.err.message : String(failure.err)}`);
    const manifestPath = layout.manifestFile(opts.businessDate);
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as RunManifest;
    const clusterState = cluster ? await cluster.report() : undefined;
    const encrypted = { keyId: encryption.activeKeyId, keysDir: encryption.keysDir, codecServer: codecServer.url, uiDecodes };
    const reportPath = existsSync(layout.reportFile(opts.businessDate)) ? layout.reportFile(opts.businessDate) : undefined;
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({ manifest, manifestPath, ...(reportPath ? { reportPath } : {}), uiLink, encryption: encrypted, ...(diagnostics.length > 0 ? { diagnostics } : {}), ...(clusterState ? { cluster: clusterState } : {}) }, null, 2) + '\n',
      );
    } else {
      out(renderSummary(manifest, uiLink, manifestPath, { diagnostics, attentionList, ...(reportPath ? { reportPath } : {}) }));
      out(encryptionSummary(encrypted));
      if (clusterState) out(clusterState.text);
    }
    const clean = clusterState === undefined || clusterState.total === 0;
    return !failed && manifest.status === 'COMPLETED' && clean ? 0 : 1;
  } finally {
    await session.close();
    nightjar?.shutdown();
    await running;
    await cluster?.stop();
  }
}
