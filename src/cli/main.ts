import { Command, CommanderError } from 'commander';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createLogger } from '../worker/logger';
import { generateFeeds } from '../feeds/generator';
import { DataLayout } from '../common/layout';
import { runDemo } from './demo';
import {
  demoSparkPlatform,
  parseBusinessDate,
  parseFeedName,
  parseOnPark,
  parseNonNegativeInt,
  parseRate,
  parseScenario,
  parseSparkPlatform,
  previousDay,
  SPARK_PLATFORM_CHOICES,
  type DemoSparkPlatform,
} from './options';
import { SCENARIO_NAMES } from '../spark/kubernetes/simulator/scenarios';
import { ensureSearchAttributes } from '../infra/search-attributes';
import { createNightjarWorker } from '../worker/worker';
import { ensureDevServer, stopDevServer } from '../infra/temporal-dev-server';
import { venvTool } from '../infra/tools';
import { configFrom, processDeps, type CliDeps } from './context';
import { exitCodeOf, ExitCode } from './exit-codes';
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
    .showHelpAfterError();

  program
    .command('demo')
    .description('run one business date end to end on the embedded defaults (dev server + UI, local or simulated-Kubernetes Spark, PGlite)')
    .option('--business-date <date>', 'business date to process (YYYY-MM-DD)', parseBusinessDate, previousDay())
    .option('--transactions <n>', 'transactions to generate', parseNonNegativeInt, 20000)
    .option('--accounts <n>', 'accounts to generate (default: derived from --transactions)', parseNonNegativeInt)
    .option('--defects <rate>', 'share of rows with an injected defect (0..1)', parseRate, 0.005)
    .option('--seed <n>', 'generator seed', parseNonNegativeInt, 42)
    .option('--data-dir <dir>', 'data directory (lake zones, Temporal db, PGlite)')
    .option('--driver-memory <mb>', 'initial Spark driver memory in MiB for this night', parseNonNegativeInt)
    .option('--spark-platform <platform>', `where Spark runs: ${SPARK_PLATFORM_CHOICES.join(' or ')}`, parseSparkPlatform, 'local')
    .option('--scenario <name>', `what the simulated cluster does to each Spark attempt (simulated-kubernetes only): ${SCENARIO_NAMES.join(', ')}`, parseScenario)
    .option('--break-feed <feed>', 'deliver this feed with a wrong trailer count: its ingest is refused and the night parks in NEEDS_ATTENTION', parseFeedName)
    .option('--on-park <mode>', 'when the night parks: auto (fix a --break-feed file and retry, else abort), wait (you decide: CLI or UI), abort', parseOnPark, 'auto')
    .option('--json', 'print the summary as JSON')
    .action(async (opts, command: Command) => {
      let sparkPlatform: DemoSparkPlatform;
      try {
        sparkPlatform = demoSparkPlatform(opts.sparkPlatform, opts.scenario);
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

  program
    .command('generate')
    .description("write a business date's five feeds into the landing zone")
    .option('--business-date <date>', 'business date (YYYY-MM-DD)', parseBusinessDate, previousDay())
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
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => w.shutdown());
      logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker running');
      await w.run();
    });

  const server = program.command('server').description('the local Temporal dev server (with Web UI)');
  server
    .command('start')
    .description('start (or reuse) the dev server with a file-backed database under the data directory')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts) => {
      const config = configFor(opts.dataDir);
      const logger = createLogger(config.log);
      const layout = new DataLayout(config.dataDir);
      const [host, port] = config.temporal.address.split(':');
      const s = await ensureDevServer({
        temporalBin: venvTool(config.repoRoot, 'temporal'),
        dbFile: layout.temporalDbFile(),
        host: host ?? '127.0.0.1',
        port: Number(port ?? 7233),
        uiPort: Number(new URL(config.temporal.uiUrl).port || 8233),
        logFile: path.join(config.dataDir, 'temporal', 'dev-server.log'),
        logger,
      });
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
  addOperatorCommands(program, deps);
  return program;
}

/**
 * Runs one command line and returns its exit code: 0 done (or help shown), 1 an operation
 * refused, 2 a wrong command line or configuration. Commander has already printed its own
 * errors; the others are printed here. Unexpected errors are thrown.
 */
export async function runCli(argv: readonly string[], deps: CliDeps = processDeps()): Promise<number> {
  try {
    await buildProgram(deps).parseAsync([...argv]);
    return ExitCode.Ok;
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === undefined) throw error;
    if (!(error instanceof CommanderError)) deps.output.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return code;
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv);
  // The demo sets its own exit code (1 when the night did not complete).
  if (code !== ExitCode.Ok) process.exitCode = code;
}
