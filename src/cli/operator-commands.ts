/**
 * The operator's commands: flags → checked request → operation (src/cli/operations.ts) → text or
 * JSON. Every flag is checked before Temporal is contacted; flags that fail alone or together end
 * the command with exit code 2, an operation refused by Temporal or the workflow with 1.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { DataLayout } from '../common/layout';
import { readRunManifest } from '../night-report/manifests';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { NightjarConfig } from '../config/config';
import { addDays } from '../domain/business-date';
import { dailyWorkflowId } from '../domain/ids';
import type { FeedName } from '../domain/feeds/catalog';
import type { NightStatus } from '../domain/pipeline';
import { describeIssues, FeedArrivalSchema, type FeedArrival } from '../domain/triggers';
import type { NightlyScheduleOptions } from '../schedules/nightly-schedule';
import { createLogger } from '../worker/logger';
import type { ResolveAction, ResolveStepRequest } from '../workflows/messages';
import { configFrom, withTemporal, type CliDeps } from './context';
import { OperationRefused, UsageError } from './exit-codes';
import {
  cancelNight,
  deleteSchedule,
  describeSchedule,
  holdExport,
  listNights,
  nightView,
  pauseSchedule,
  releaseExport,
  reportFeedArrival,
  resolveStep,
  runBackfill,
  runJanitor,
  serveTriggersUntil,
  startNight,
  temporalTargetOf,
  unpauseSchedule,
  upsertSchedule,
  workflowUiLink,
  type NightFilter,
} from './operations';
import {
  addDateOptions,
  parseBusinessDate,
  parseFeedName,
  parseMemoryMb,
  parseNightStatus,
  parseNonNegativeInt,
  parsePositiveInt,
  parseResolveAction,
  parseSparkOverrides,
  parseStep,
  parseTenant,
  parseText,
  parseTimeZone,
  parseWallClockTime,
  SPARK_STEPS,
  type ParkableStep,
  type SparkResourcesOverride,
} from './options';
import {
  backfillCounts,
  renderBackfillNight,
  renderBackfillSummary,
  renderCancelled,
  renderFeedReported,
  renderHeld,
  renderJanitor,
  renderNightList,
  renderReleased,
  renderResolved,
  renderSchedule,
  renderScheduleDeleted,
  renderStarted,
} from './render-results';
import { renderClosedNight, renderStatus } from './render-status';
import { openReport, reportFor } from './report';

// ---- flags → requests (pure; each refusal names the flags) ---------------------------------------

/** The widest range one backfill takes: a wrong year should not start hundreds of nights. */
export const MAX_BACKFILL_DAYS = 366;

export function checkDateRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && from > to) throw new UsageError(`--from ${from} is after --to ${to}.`);
}

export function checkBackfillRange(from: string, to: string): void {
  checkDateRange(from, to);
  if (addDays(from, MAX_BACKFILL_DAYS - 1) < to) {
    throw new UsageError(`--from ${from} --to ${to} spans more than ${MAX_BACKFILL_DAYS} days; backfill a longer period in several runs.`);
  }
}

export interface ResolveFlags {
  readonly step: ParkableStep;
  readonly action: ResolveAction;
  readonly feed?: FeedName;
  readonly overrides?: SparkResourcesOverride;
  readonly reason?: string;
  readonly by?: string;
}

export function resolveRequest(flags: ResolveFlags): ResolveStepRequest {
  if (flags.feed !== undefined && flags.step !== 'ingest') throw new UsageError(`--feed names the feed of a parked ingest; it does not apply to --step ${flags.step}.`);
  if (flags.overrides !== undefined) {
    if (!(SPARK_STEPS as readonly string[]).includes(flags.step)) {
      throw new UsageError(`--overrides sizes a Spark step (${SPARK_STEPS.join(', ')}); it does not apply to --step ${flags.step}.`);
    }
    if (flags.action !== 'retry') throw new UsageError(`--overrides applies to --action retry, not --action ${flags.action}.`);
  }
  return {
    step: flags.step,
    action: flags.action,
    ...(flags.feed !== undefined ? { feed: flags.feed } : {}),
    ...(flags.overrides !== undefined ? { overrides: flags.overrides } : {}),
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    ...(flags.by !== undefined ? { by: flags.by } : {}),
  };
}

const ARRIVAL_FLAGS: Readonly<Record<string, string>> = { businessDate: '--date', tenant: '--tenant', feed: '--feed', uri: '--uri', sha256: '--sha256' };

/** A feed arrival from flags, checked by the schema every door uses; a refusal names the flags. */
export function feedArrivalFromFlags(flags: { businessDate: string; tenant: string; feed: string; uri: string; sha256?: string }): FeedArrival {
  const parsed = FeedArrivalSchema.safeParse({ ...flags, ...(flags.sha256 !== undefined ? { sha256: flags.sha256 } : {}) });
  if (!parsed.success) {
    const named = describeIssues(parsed.error).replace(/(^|; )(\w+):/g, (all, sep: string, field: string) => `${sep}${ARRIVAL_FLAGS[field] ?? field}:`);
    throw new UsageError(`invalid feed arrival: ${named}.`);
  }
  return parsed.data;
}

/** The nightly schedule's options: time and zone from the flags (already in `config`) or configuration. */
export function scheduleOptions(config: NightjarConfig, tenant: string, note: string | undefined): NightlyScheduleOptions {
  if (config.schedule === undefined) throw new UsageError('no time for the nightly run: give --time HH:MM or set NIGHTJAR_SCHEDULE_TIME.');
  return {
    tenant,
    taskQueue: config.temporal.taskQueue,
    time: config.schedule.time,
    timeZone: config.calendar.timeZone,
    catchupWindowSeconds: config.schedule.catchupWindowSeconds,
    lookbackDays: config.schedule.lookbackDays,
    ...(note !== undefined ? { note } : {}),
  };
}

/** Who is acting, for the audit trail, when `--by` is not given: the login name. */
export function defaultOperator(env: CliDeps['env']): string | undefined {
  return env.USER ?? env.LOGNAME ?? env.USERNAME;
}

// ---- commander wiring -----------------------------------------------------------------------------

interface CommonFlags {
  readonly dataDir?: string;
  readonly json?: boolean;
  readonly tenant?: string;
}

const DATE_HELP = 'business date (YYYY-MM-DD)';
const TENANT_HELP = 'tenant (default and only accepted value: NIGHTJAR_TENANT, else "default")';

function common(command: Command, options: { json?: boolean } = {}): Command {
  command.option('--data-dir <dir>', 'data directory (configuration as for the worker)');
  if (options.json !== false) command.option('--json', 'print the result as JSON');
  return command;
}

export function addOperatorCommands(program: Command, deps: CliDeps): void {
  const out = deps.output.stdout;
  const print = (flags: CommonFlags, data: unknown, text: string) => out(flags.json ? `${JSON.stringify(data, null, 2)}\n` : text);

  /**
   * An action with its configuration and a Temporal client. `check` runs first, before any
   * connection: a UsageError it throws ends the command as a command-line error (exit code 2).
   */
  function temporalAction<F extends CommonFlags, R>(
    check: (flags: F, config: NightjarConfig) => R,
    run: (client: Client, request: R, flags: F, config: NightjarConfig) => Promise<void>,
    env: (flags: F) => Record<string, string | undefined> = () => ({}),
  ) {
    return async (flags: F, command: Command) => {
      const config = configFrom(deps.env, flags.dataDir, env(flags));
      // A deployment serves its own tenant: its task queue, ids and schedules are that tenant's.
      if (flags.tenant !== undefined && flags.tenant !== config.tenant) {
        throw new OperationRefused(`tenant '${flags.tenant}' is not served by this configuration (NIGHTJAR_TENANT=${config.tenant}): run the command with that tenant's configuration`);
      }
      let request: R;
      try {
        request = check(flags, config);
      } catch (error) {
        if (error instanceof UsageError) command.error(`error: ${error.message}`, { exitCode: 2, code: 'nightjar.usage' });
        throw error;
      }
      await withTemporal(deps, config, (client) => run(client, request, flags, config));
    };
  }
  const night = (flags: { date: string; tenant?: string }, config: NightjarConfig) => ({ businessDate: flags.date, tenant: flags.tenant ?? config.tenant });

  // ---- start
  type StartFlags = CommonFlags & { date: string; driverMemory?: number; force?: boolean };
  common(
    addDateOptions(program.command('start').description('start the night of a business date, or join it when it is running'), DATE_HELP)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant)
      .option('--driver-memory <mb>', 'Spark driver memory (MiB) of both jobs for a night that starts', parseMemoryMb)
      .option('--force', 'run again a night that completed (its reports are replaced, never doubled)'),
  ).action(
    temporalAction(
      (f: StartFlags, config) => night(f, config),
      async (client, ref, f, config) => {
        const started = await startNight(client, temporalTargetOf(config), { ...ref, ...(f.driverMemory !== undefined ? { driverMemoryMb: f.driverMemory } : {}), ...(f.force ? { force: true } : {}) });
        print(f, started, renderStarted(started));
      },
    ),
  );

  // ---- status
  type NightFlags = CommonFlags & { date: string };
  common(
    addDateOptions(program.command('status').description("a night's status: stage, feeds, steps with attempts, a parked step and how to decide it, the export hold"), DATE_HELP)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: NightFlags, config) => night(f, config),
      async (client, ref, f, config) => {
        const layout = new DataLayout(config.dataDir);
        const readManifest = async (date: string) => {
          const path = layout.manifestFile(date);
          const manifest = await readRunManifest(path);
          return manifest === undefined ? undefined : { manifest, path };
        };
        const view = await nightView(client, temporalTargetOf(config), ref, readManifest);
        const workflowId = dailyWorkflowId(ref.businessDate, ref.tenant);
        const uiLink = workflowUiLink(config.temporal, workflowId);
        if (view.open) {
          print(f, view.status, renderStatus(view.status, { workflowId, uiLink }));
          return;
        }
        const reportPath = view.night.source === 'manifest' && existsSync(layout.reportFile(ref.businessDate)) ? layout.reportFile(ref.businessDate) : undefined;
        print(f, { closed: true, ...view.night, ...(reportPath ? { reportPath } : {}) }, renderClosedNight(view.night, { workflowId, uiLink, ...(reportPath ? { reportPath } : {}) }));
      },
    ),
  );

  // ---- report (no Temporal: the night's files)
  type ReportFlags = CommonFlags & { date: string; open?: boolean };
  common(
    addDateOptions(
      program.command('report').description("the path of a night's report page (runs/<date>/report.html, written when the night ends; rendered from the manifest when missing)"),
      DATE_HELP,
    ).option('--open', 'open it in the default browser as well'),
  ).action(async (f: ReportFlags) => {
    const config = configFrom(deps.env, f.dataDir);
    const report = await reportFor(new DataLayout(config.dataDir), f.date);
    print(f, report, `${report.path}\n`);
    if (f.open) {
      const opened = openReport(report.path);
      if (!f.json) deps.output.stderr(`${opened}\n`);
    }
  });

  // ---- list
  type ListFlags = CommonFlags & { status?: NightStatus; from?: string; to?: string; limit: number };
  common(
    program
      .command('list')
      .description('list nights, most recently started first (a visibility query on the Nightjar search attributes)')
      .option('--tenant <tenant>', TENANT_HELP, parseTenant)
      .option('--status <status>', 'only nights in this status, e.g. NEEDS_ATTENTION', parseNightStatus)
      .option('--from <date>', 'business dates from (YYYY-MM-DD, inclusive)', parseBusinessDate)
      .option('--to <date>', 'business dates to (YYYY-MM-DD, inclusive)', parseBusinessDate)
      .option('--limit <n>', 'at most this many nights', parsePositiveInt, 50),
  ).action(
    temporalAction(
      (f: ListFlags, config): NightFilter & { limit: number } => {
        checkDateRange(f.from, f.to);
        return {
          tenant: f.tenant ?? config.tenant,
          ...(f.status !== undefined ? { status: f.status } : {}),
          ...(f.from !== undefined ? { from: f.from } : {}),
          ...(f.to !== undefined ? { to: f.to } : {}),
          limit: f.limit,
        };
      },
      async (client, filter, f) => {
        const list = await listNights(client, filter);
        print(f, list, renderNightList(list));
      },
    ),
  );

  // ---- resolve
  type ResolveCliFlags = NightFlags & { step: ParkableStep; action: ResolveAction; feed?: FeedName; overrides?: SparkResourcesOverride; reason?: string; by?: string };
  common(
    addDateOptions(program.command('resolve').description('decide a parked step (the resolveStep update): retry it, skip it (an optional feed) or abort the night'), DATE_HELP)
      .requiredOption('--step <step>', 'the parked step: ingest, normalize, transform or export', parseStep)
      .requiredOption('--action <action>', 'retry, skip or abort', parseResolveAction)
      .option('--feed <feed>', 'for ingest: the parked feed', parseFeedName)
      .option('--overrides <json>', 'for a retry of normalize or transform: resources of its next attempts, e.g. \'{"driverMemoryMb":4096}\'', parseSparkOverrides)
      .option('--reason <text>', 'why (kept in the manifest)', parseText)
      .option('--by <name>', 'who decides (default: the login name)', parseText)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: ResolveCliFlags, config) => {
        const by = f.by ?? defaultOperator(deps.env);
        return { ref: night(f, config), request: resolveRequest({ ...f, ...(by !== undefined ? { by } : {}) }) };
      },
      async (client, { ref, request }, f) => {
        const resolved = await resolveStep(client, ref, request);
        print(f, resolved, renderResolved(resolved));
      },
    ),
  );

  // ---- hold / release
  type HoldFlags = NightFlags & { reason: string; by?: string };
  common(
    addDateOptions(program.command('hold').description("keep a night's export from starting until released (the rest of the night runs on)"), DATE_HELP)
      .requiredOption('--reason <text>', 'why (shown by status and in the UI)', parseText)
      .option('--by <name>', 'who holds (default: the login name)', parseText)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: HoldFlags, config) => {
        const by = f.by ?? defaultOperator(deps.env);
        return { ref: night(f, config), hold: { reason: f.reason, ...(by !== undefined ? { by } : {}) } };
      },
      async (client, { ref, hold }, f) => {
        const held = await holdExport(client, ref, hold);
        print(f, held, renderHeld(held));
      },
    ),
  );
  type ReleaseFlags = NightFlags & { by?: string };
  common(
    addDateOptions(program.command('release').description("release a night's export hold"), DATE_HELP)
      .option('--by <name>', 'who releases (default: the login name)', parseText)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: ReleaseFlags, config) => ({ ref: night(f, config), by: f.by ?? defaultOperator(deps.env) }),
      async (client, { ref, by }, f) => {
        const released = await releaseExport(client, ref, by);
        print(f, released, renderReleased(released));
      },
    ),
  );

  // ---- cancel
  type CancelFlags = NightFlags & { reason?: string };
  common(
    addDateOptions(program.command('cancel').description('cancel a running night: it stops its step, cleans up and writes its manifest as CANCELLED'), DATE_HELP)
      .option('--reason <text>', "why (kept in the workflow's history)", parseText)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: CancelFlags, config) => night(f, config),
      async (client, ref, f) => {
        const cancelled = await cancelNight(client, ref, f.reason);
        print(f, cancelled, renderCancelled(cancelled));
      },
    ),
  );

  // ---- feed-arrived
  type FeedFlags = NightFlags & { feed: FeedName; uri: string; sha256?: string };
  common(
    addDateOptions(program.command('feed-arrived').description('report that a feed file arrived (starts the night when it is not running yet)'), DATE_HELP)
      .requiredOption('--feed <feed>', 'the feed', parseFeedName)
      .requiredOption('--uri <uri>', 'where the file is: file://, s3://, s3a://, gs://, abfs(s):// or hdfs://')
      .option('--sha256 <hex>', "the file's SHA-256 (64 lower-case hex digits); ingest checks it")
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(
      (f: FeedFlags, config) => feedArrivalFromFlags({ ...night(f, config), feed: f.feed, uri: f.uri, ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}) }),
      async (client, arrival, f, config) => {
        const reported = await reportFeedArrival(client, temporalTargetOf(config), arrival);
        print(f, reported, renderFeedReported(reported));
      },
    ),
  );

  // ---- backfill
  type BackfillFlags = CommonFlags & { from: string; to: string; concurrency: number; force?: boolean };
  common(
    program
      .command('backfill')
      .description('run the nights of every business date of a range, a few at a time; completed nights are skipped unless forced')
      .requiredOption('--from <date>', 'first business date (YYYY-MM-DD)', parseBusinessDate)
      .requiredOption('--to <date>', 'last business date (YYYY-MM-DD, inclusive)', parseBusinessDate)
      .option('--tenant <tenant>', TENANT_HELP, parseTenant)
      .option('--concurrency <n>', 'nights at a time', parsePositiveInt, 4)
      .option('--force', 'run completed nights again (their reports are replaced)'),
  ).action(
    temporalAction(
      (f: BackfillFlags, config) => {
        checkBackfillRange(f.from, f.to);
        return { tenant: f.tenant ?? config.tenant, from: f.from, to: f.to, concurrency: f.concurrency, calendar: config.calendar, ...(f.force ? { force: true } : {}) };
      },
      async (client, request, f, config) => {
        const report = await runBackfill(client, temporalTargetOf(config), { ...request, ...(f.json ? {} : { onNight: (n) => out(renderBackfillNight(n)) }) });
        print(f, report, renderBackfillSummary(report, f.from, f.to));
        const { failed } = backfillCounts(report);
        if (failed > 0) throw new OperationRefused(`${failed} of ${report.nights.length} night(s) did not complete; see them with: nightjar list --status FAILED`);
      },
    ),
  );

  // ---- schedule
  const schedule = program.command('schedule').description("the tenant's nightly schedule (Temporal Schedule nightjar-nightly-<tenant>)");
  type ScheduleFlags = CommonFlags & { time?: string; timeZone?: string; note?: string };
  common(
    schedule
      .command('upsert')
      .description('create the nightly schedule, or bring it up to date (a paused schedule stays paused)')
      .option('--tenant <tenant>', TENANT_HELP, parseTenant)
      .option('--time <HH:MM>', 'wall-clock time of the nightly run (default: NIGHTJAR_SCHEDULE_TIME)', parseWallClockTime)
      .option('--time-zone <zone>', 'IANA zone of the time (default: NIGHTJAR_TIME_ZONE, else UTC)', parseTimeZone)
      .option('--note <text>', "the schedule's note, at creation", parseText),
  ).action(
    temporalAction(
      (f: ScheduleFlags, config) => scheduleOptions(config, f.tenant ?? config.tenant, f.note),
      async (client, options, f) => {
        const upserted = await upsertSchedule(client, options);
        print(f, upserted, `${upserted.outcome === 'created' ? 'Created' : 'Updated'} ${upserted.schedule.scheduleId}\n${renderSchedule(upserted.schedule)}`);
      },
      // Flags stand in for their variables, so configuration checks them and supplies the rest.
      (f) => ({ ...(f.time !== undefined ? { NIGHTJAR_SCHEDULE_TIME: f.time } : {}), ...(f.timeZone !== undefined ? { NIGHTJAR_TIME_ZONE: f.timeZone } : {}) }),
    ),
  );
  const tenantOf = (f: CommonFlags, config: NightjarConfig) => f.tenant ?? config.tenant;
  common(
    schedule
      .command('describe')
      .description('the schedule: time, zone, state, note, next runs in UTC and local time, recent runs')
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(tenantOf, async (client, tenant, f: CommonFlags) => {
      const described = await describeSchedule(client, tenant);
      print(f, described, renderSchedule(described));
    }),
  );
  type NoteFlags = CommonFlags & { note?: string };
  for (const [verb, run, defaultNote] of [
    ['pause', pauseSchedule, 'paused with nightjar schedule pause'],
    ['unpause', unpauseSchedule, 'resumed with nightjar schedule unpause'],
  ] as const) {
    common(
      schedule
        .command(verb)
        .description(verb === 'pause' ? 'stop the nightly runs (the dates they miss are owed by the first run after unpause)' : 'resume the nightly runs')
        .option('--tenant <tenant>', TENANT_HELP, parseTenant)
        .option('--note <text>', `why (default: "${defaultNote}")`, parseText),
    ).action(
      temporalAction(
        (f: NoteFlags, config) => ({ tenant: tenantOf(f, config), note: f.note ?? defaultNote }),
        async (client, { tenant, note }, f) => {
          const described = await run(client, tenant, note);
          print(f, described, renderSchedule(described));
        },
      ),
    );
  }
  common(
    schedule
      .command('delete')
      .description('delete the nightly schedule (nights it started are not touched)')
      .option('--tenant <tenant>', TENANT_HELP, parseTenant),
  ).action(
    temporalAction(tenantOf, async (client, tenant, f: CommonFlags) => {
      const deleted = await deleteSchedule(client, tenant);
      print(f, deleted, renderScheduleDeleted(deleted));
    }),
  );

  // ---- janitor
  type JanitorFlags = CommonFlags & { dryRun?: boolean; minAge?: number };
  common(
    program
      .command('janitor')
      .description('run the sparkJanitor workflow once (needs a worker) and print what it removed from the cluster')
      .option('--dry-run', 'report what would be removed, remove nothing')
      .option('--min-age <seconds>', 'leave objects younger than this (default: NIGHTJAR_JANITOR_MIN_AGE_SECONDS)', parseNonNegativeInt),
  ).action(
    temporalAction(
      (f: JanitorFlags, config) => ({ minAgeSeconds: f.minAge ?? config.janitor.minAgeSeconds, ...(f.dryRun ? { dryRun: true } : {}) }),
      async (client, input, f, config) => {
        const report = await runJanitor(client, temporalTargetOf(config), input);
        print(f, report, renderJanitor(report));
        if (report.failed.length > 0) throw new OperationRefused(`${report.failed.length} object(s) could not be deleted`);
      },
    ),
  );

  // ---- triggers
  common(program.command('triggers').description('serve the HTTP trigger API and/or the Kafka feed-arrival bridge (per configuration) until SIGINT/SIGTERM')).action(
    temporalAction(
      (_f: CommonFlags, config) => {
        if (config.http.tokens.length === 0 && config.kafka === undefined) {
          throw new UsageError('nothing to serve: set NIGHTJAR_HTTP_TOKENS for the HTTP API and/or NIGHTJAR_KAFKA_BROKERS for the Kafka bridge.');
        }
        return undefined;
      },
      async (client, _none, f, config) => {
        // stdout carries what the command prints (JSON with --json); the services log to stderr.
        const logger = createLogger({ ...config.log, destination: pino.destination(2) });
        let onSignal: () => void = () => undefined;
        const stopped = new Promise<void>((resolve) => {
          onSignal = resolve;
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        try {
          await serveTriggersUntil(config, client, logger, stopped, (running) => {
            const lines = [running.httpUrl ? `HTTP trigger API: ${running.httpUrl}` : undefined, running.kafkaTopic ? `Kafka feed arrivals: topic ${running.kafkaTopic}` : undefined];
            print(f, running, `${lines.filter(Boolean).join('\n')}\nServing until SIGINT/SIGTERM\n`);
          });
        } finally {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
        }
      },
    ),
  );
}
