import { Command, CommanderError } from 'commander';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createLogger } from '../worker/logger';
import { generateFeeds } from '../../demo/feeds/generate-feeds';
import { DataLayout } from '../common/layout';
import { runDemo } from '../../demo/run-demo';
import {
  addDateOptions,
  demoSparkPlatform,
  KUBERNETES_SUBMIT_CHOICES,
  parseFeedName,
  parseKubernetesSubmit,
  parseOnPark,
  parseNonNegativeInt,
  parseRate,
  parseScenario,
  parseSparkPlatform,
  previousDay,
  SCENARIO_NAMES,
  SPARK_PLATFORM_CHOICES,
  SPARK_SUBMIT_SCENARIOS,
  type DemoSparkPlatform,
} from './options';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createNightjarWorker } from '../worker/worker';
import { ensureDevServer, stopDevServer } from '../infra/temporal-dev-server';
import { configFrom, devServerOptions, processDeps, type CliDeps } from './context';
import { describeFailure, exitCodeOf, ExitCode, UsageError } from './exit-codes';
import { CodecServerInsecure, startCodecServer } from '../codec/codec-server';
import { KeyStoreError } from '../codec/errors';
import { createKey } from '../codec/keys';
import { payloadCodec } from '../infra/temporal-connection';
import { addOperatorCommands } from './operator-commands';

/**
 * The `nightjar` command line. Errors never exit the process from inside commander: they reach
 * `runCli` as exceptions, which turns them into exit codes (see exit-codes.ts).
 */
export function buildProgram(deps: CliDeps = processDeps()): Command {
  const configFor = (dataDir: string | undefined) => configFrom(deps.env, dataDir);
  const println = (line: string) => deps.output.stdout(`${line}\n`);
  // Set before the commands are added: every command inherits them.
  const program = new Command('nightjar')
    .description('Durable nightly (T+1) batch pipelines: feeds → Spark → reporting, on Temporal')
    .exitOverride()
    .configureOutput({ writeOut: deps.output.stdout, writeErr: deps.output.stderr })
    // A failure stays one or two lines: the error, then where the flags are described.
    .showHelpAfterError('(add --help for every flag of this command)');

  addDateOptions(
    program.command('demo').description('run one business date end to end on the embedded defaults (dev server + UI, local Spark or the local Kubernetes control plane, PGlite)'),
    'business date to process (YYYY-MM-DD)',
    previousDay,
  )
    .option('--transactions <n>', 'transactions to generate', parseNonNegativeInt, 20000)
    .option('--accounts <n>', 'accounts to generate (default: derived from --transactions)', parseNonNegativeInt)
    .option('--defects <rate>', 'share of rows with an injected defect (0..1)', parseRate, 0.005)
    .option('--seed <n>', 'generator seed', parseNonNegativeInt, 42)
    .option('--data-dir <dir>', 'data directory (lake zones, Temporal db, PGlite)')
    .option('--driver-memory <mb>', 'initial Spark driver memory in MiB for this night', parseNonNegativeInt)
    .option('--spark-platform <platform>', `where Spark runs: ${SPARK_PLATFORM_CHOICES.join(' or ')}`, parseSparkPlatform, 'local')
    .option(
      '--kubernetes-submit <mode>',
      `how attempts reach the local plane (local-kubernetes only): ${KUBERNETES_SUBMIT_CHOICES.join(' or ')} (default operator; spark-submit runs real driver and executor pods)`,
      parseKubernetesSubmit,
    )
    .option('--scenario <name>', `what happens to the Spark attempts (local-kubernetes only): ${SCENARIO_NAMES.join(', ')}; with spark-submit: ${SPARK_SUBMIT_SCENARIOS.join(', ')}`, parseScenario)
    .option('--break-feed <feed>', 'deliver this feed with a wrong trailer count: its ingest is refused and the night parks in NEEDS_ATTENTION', parseFeedName)
    .option('--on-park <mode>', 'when the night parks: auto (fix a --break-feed file and retry, else abort), wait (you decide: CLI or UI), abort', parseOnPark, 'auto')
    .option('--json', 'print the summary as JSON')
    .action(async (opts, command: Command) => {
      let sparkPlatform: DemoSparkPlatform;
      try {
        sparkPlatform = demoSparkPlatform(opts.sparkPlatform, opts.scenario, opts.kubernetesSubmit);
      } catch (error) {
        command.error(`error: ${error instanceof Error ? error.message : String(error)}`, { exitCode: 2 });
      }
      const code = await runDemo(configFor(opts.dataDir), {
        businessDate: opts.businessDate,
        transactions: opts.transactions,
        accounts: opts.accounts,
        defectRate: opts.defects,
        seed: opts.seed,
        driverMemoryMb: opts.driverMemory,
        sparkPlatform,
        ...(opts.breakFeed ? { breakFeed: opts.breakFeed } : {}),
        onPark: opts.onPark,
        json: Boolean(opts.json),
      });
      process.exitCode = code;
    });

  addDateOptions(program.command('generate').description("write a business date's five feeds into the landing zone"), 'business date (YYYY-MM-DD)', previousDay)
    .option('--transactions <n>', 'transactions to generate', parseNonNegativeInt, 20000)
    .option('--accounts <n>', 'accounts to generate (default: derived from --transactions)', parseNonNegativeInt)
    .option('--defects <rate>', 'share of rows with an injected defect (0..1)', parseRate, 0)
    .option('--seed <n>', 'generator seed', parseNonNegativeInt, 42)
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts) => {
      const config = configFor(opts.dataDir);
      const layout = new DataLayout(config.dataDir);
      const summary = await generateFeeds({
        landingDir: layout.landingDir(opts.businessDate),
        businessDate: opts.businessDate,
        seed: opts.seed,
        transactions: opts.transactions,
        ...(opts.accounts !== undefined ? { accounts: opts.accounts } : {}),
        defectRate: opts.defects,
      });
      println(JSON.stringify(summary, null, 2));
    });

  program
    .command('worker')
    .description('run a worker against the configured Temporal server until SIGINT/SIGTERM')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts) => {
      const config = configFor(opts.dataDir);
      const logger = createLogger(config.log);
      const w = await createNightjarWorker(config, logger);
      // The SDK runtime shuts the worker down on these signals too; this logs why. Both listen
      // once: a second signal ends the process at once.
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.once(sig, () => {
          logger.info({ signal: sig, graceSeconds: config.worker.shutdownGraceSeconds }, 'shutdown requested: draining the worker');
          if (w.worker.getState() === 'RUNNING') w.shutdown();
        });
      }
      logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker running');
      await w.run();
      logger.info({ taskQueue: config.temporal.taskQueue }, 'worker stopped');
    });

  const server = program.command('server').description('the local Temporal dev server (with Web UI)');
  server
    .command('start')
    .description('start (or reuse) the dev server with a file-backed database under the data directory')
    .option('--data-dir <dir>', 'data directory')
    .option('--ui-codec-endpoint <url>', 'codec server the Web UI decodes payloads with (e.g. http://127.0.0.1:8089 from `nightjar codec-server`); applies only to a server started now')
    .action(async (opts) => {
      const config = configFor(opts.dataDir);
      const logger = createLogger(config.log);
      const s = await ensureDevServer({
        ...devServerOptions(config, logger),
        ...(opts.uiCodecEndpoint ? { uiCodecEndpoint: String(opts.uiCodecEndpoint) } : {}),
      });
      if (opts.uiCodecEndpoint && !s.startedHere) {
        println(`The dev server was already running: its Web UI keeps the codec endpoint it was started with (run 'nightjar server stop' first to use ${opts.uiCodecEndpoint})`);
      }
      // A server started earlier (or by someone else) may not know the workflows' search attributes.
      const connection = await Connection.connect({ address: s.address });
      try {
        const added = await ensureSearchAttributes(connection, config.temporal.namespace);
        if (added.length > 0) println(`Registered search attributes: ${added.join(', ')}`);
      } finally {
        await connection.close();
      }
      println(`Temporal ${s.address}, Web UI ${s.uiUrl}`);
    });
  server
    .command('stop')
    .description('stop the dev server started by `server start` or `demo`')
    .option('--data-dir <dir>', 'data directory')
    .action((opts) => {
      const config = configFor(opts.dataDir);
      println(stopDevServer({ dbFile: new DataLayout(config.dataDir).temporalDbFile() }) ? 'stopped' : 'no dev server was started from this data directory');
    });

  program
    .command('codec-server')
    .description('serve POST /encode and /decode for the Temporal Web UI with the configured encryption keys, until SIGINT/SIGTERM')
    .option('--data-dir <dir>', 'data directory')
    .option('--host <host>', 'address to listen on (NIGHTJAR_CODEC_HOST; a non-loopback host needs NIGHTJAR_CODEC_TOKENS)')
    .option('--port <port>', 'port to listen on (NIGHTJAR_CODEC_PORT)')
    .action(async (opts) => {
      const config = configFrom(deps.env, opts.dataDir, {
        ...(opts.host !== undefined ? { NIGHTJAR_CODEC_HOST: String(opts.host) } : {}),
        ...(opts.port !== undefined ? { NIGHTJAR_CODEC_PORT: String(opts.port) } : {}),
      });
      const codec = payloadCodec(config);
      if (codec === undefined) throw new UsageError('the codec server needs the encryption keys: set NIGHTJAR_ENCRYPTION_KEYS_DIR and NIGHTJAR_ENCRYPTION_KEY_ID');
      const logger = createLogger(config.log);
      let running: Awaited<ReturnType<typeof startCodecServer>>;
      try {
        running = await startCodecServer(config.codecServer, codec, logger.child({ component: 'codec-server' }));
      } catch (error) {
        if (error instanceof CodecServerInsecure) throw new UsageError(error.message);
        throw error;
      }
      logger.info({ url: running.url, corsOrigins: config.codecServer.corsOrigins, authenticated: config.codecServer.tokens.length > 0 }, 'codec server listening');
      println(`Codec server ${running.url} (POST /encode, POST /decode); Web UI origins allowed: ${config.codecServer.corsOrigins.join(', ')}`);
      println(`Point the UI at it: temporal server start-dev --ui-codec-endpoint ${running.url}, or the UI's Data Encoder settings`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });

  const keys = program.command('keys').description('payload encryption keys (one file per key id)');
  keys
    .command('create')
    .description('write a new random AES-256 key (mode 0600); rotate by creating a key and switching NIGHTJAR_ENCRYPTION_KEY_ID to it')
    .requiredOption('--dir <dir>', 'keys directory (NIGHTJAR_ENCRYPTION_KEYS_DIR)')
    .requiredOption('--id <id>', 'key id: letters, digits, ".", "_" or "-" (becomes the file name)')
    .action((opts) => {
      let file: string;
      try {
        file = createKey(path.resolve(String(opts.dir)), String(opts.id));
      } catch (error) {
        if (error instanceof KeyStoreError) throw new UsageError(error.message);
        throw error;
      }
      println(`Created key ${opts.id}: ${file}`);
      println(`Encrypt new payloads with it: NIGHTJAR_ENCRYPTION_KEYS_DIR=${path.dirname(file)} NIGHTJAR_ENCRYPTION_KEY_ID=${opts.id} (keep the older keys: they still decrypt)`);
    });

  addOperatorCommands(program, deps);
  return program;
}

/**
 * Runs one command line and returns its exit code (see exit-codes.ts): 0 done (or help shown),
 * 1 refused, 2 a wrong command line or configuration, 3 unexpected. Commander has already printed
 * its own errors; every other failure is printed here as one line, never as a stack trace.
 */
export async function runCli(argv: readonly string[], deps: CliDeps = processDeps()): Promise<number> {
  try {
    await buildProgram(deps).parseAsync([...argv]);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOf(error) ?? ExitCode.Usage;
    // The command and its sub-command: the words before the first flag.
    const words = argv.slice(2);
    const firstFlag = words.findIndex((a) => a.startsWith('-'));
    const command = ['nightjar', ...(firstFlag < 0 ? words : words.slice(0, firstFlag)).slice(0, 2)].join(' ');
    const { code, message } = describeFailure(error, command);
    deps.output.stderr(`error: ${message}\n`);
    return code;
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv);
  // The demo sets its own exit code (1 when the night did not complete).
  if (code !== ExitCode.Ok) process.exitCode = code;
}
