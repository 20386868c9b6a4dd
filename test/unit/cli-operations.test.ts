import { loadConfig, type NightjarConfig } from '../../src/config/config';
import type { CliDeps } from '../../src/cli/context';
import { exitCodeOf, OperationRefused, TemporalUnreachable, UsageError } from '../../src/cli/exit-codes';
import { runCli } from '../../src/cli/main';
import {
  checkBackfillRange,
  checkDateRange,
  feedArrivalFromFlags,
  resolveRequest,
  scheduleOptions,
} from '../../src/cli/operator-commands';
import { nightsQuery, workflowUiLink } from '../../src/cli/operations';
import { dailyWorkflowId, nightOfWorkflowId, sparkJobWorkflowId } from '../../src/domain/ids';
import {
  parseFeedName,
  parseMemoryMb,
  parseNightStatus,
  parsePositiveInt,
  parseResolveAction,
  parseSparkOverrides,
  parseStep,
  parseTenant,
  parseText,
  parseTimeZone,
  parseWallClockTime,
} from '../../src/cli/options';
import { renderStatus, resolveCommand } from '../../src/cli/render-status';
import { ConfigError } from '../../src/config/config';
import { TriggerRejected } from '../../src/triggers/errors';
import type { PipelineStatus } from '../../src/workflows/messages';

/** The marker a run reaches when every flag was accepted: the fake connection refuses to connect. */
const NOT_CONNECTED = 'unit tests do not connect to Temporal';

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The configuration the command would have connected with, when it got that far. */
  readonly connectedWith?: NightjarConfig;
}

/** Runs `nightjar <args>` in-process with captured output and a Temporal that is never reached. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let connectedWith: NightjarConfig | undefined;
  const deps: CliDeps = {
    output: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    env,
    connect: async (config) => {
      connectedWith = config;
      throw new OperationRefused(NOT_CONNECTED);
    },
  };
  const code = await runCli(['node', 'nightjar', ...args], deps);
  return { code, stdout, stderr, ...(connectedWith ? { connectedWith } : {}) };
}

/** A command line refused before any connection, with exit code 2 and a message saying why. */
async function expectUsageError(args: string[], message: string | RegExp, env: Record<string, string> = {}): Promise<void> {
  const run = await cli(args, env);
  expect({ code: run.code, connected: run.connectedWith !== undefined }).toEqual({ code: 2, connected: false });
  expect(run.stderr).toMatch(message);
}

/** A command line accepted: the command went as far as connecting. */
async function expectAccepted(args: string[], env: Record<string, string> = {}): Promise<NightjarConfig> {
  const run = await cli(args, env);
  expect(run.stderr).toContain(NOT_CONNECTED);
  expect(run.code).toBe(1);
  return run.connectedWith as NightjarConfig;
}

describe('flag parsers', () => {
  test('tenant, feed, time, zone, counts and memory accept their values and name the rule when they refuse', () => {
    expect(parseTenant('bank-eu')).toBe('bank-eu');
    expect(() => parseTenant('Bank_EU')).toThrow("'Bank_EU' is not a tenant: 1-32 lower-case letters, digits or - (not at the ends).");
    expect(() => parseTenant('-bank')).toThrow('is not a tenant');
    expect(parseFeedName('fx_rates')).toBe('fx_rates');
    expect(() => parseFeedName('fx')).toThrow("'fx' is not a feed; choose one of: customers, accounts, transactions, payments, fx_rates.");
    expect(parseWallClockTime('06:00')).toBe('06:00');
    expect(() => parseWallClockTime('24:00')).toThrow("'24:00' is not a 24-hour time written as HH:MM");
    expect(() => parseWallClockTime('6:00')).toThrow('HH:MM');
    expect(parseTimeZone('Europe/Brussels')).toBe('Europe/Brussels');
    expect(() => parseTimeZone('Mars/Olympus')).toThrow("'Mars/Olympus' is not an IANA time zone name");
    expect(() => parseTimeZone('europe/brussels')).toThrow("must be spelt 'Europe/Brussels'");
    expect(parsePositiveInt('4')).toBe(4);
    expect(() => parsePositiveInt('0')).toThrow("'0' is not a whole number ≥ 1.");
    expect(() => parsePositiveInt('2.5')).toThrow('whole number ≥ 1');
    expect(parseMemoryMb('4096')).toBe(4096);
    expect(() => parseMemoryMb('128')).toThrow("'128' is not a memory size in MiB (a whole number ≥ 256).");
    expect(parseText('  finance check  ')).toBe('finance check');
    expect(() => parseText('   ')).toThrow('must not be blank.');
    expect(() => parseText('two\nlines')).toThrow('must be one line.');
  });

  test('steps, actions and statuses come from fixed lists, named when refused; statuses in any case', () => {
    expect(parseStep('normalize')).toBe('normalize');
    expect(() => parseStep('finalize')).toThrow("'finalize' is not a step a night waits on; choose one of: ingest, normalize, transform, export.");
    expect(parseResolveAction('skip')).toBe('skip');
    expect(() => parseResolveAction('redo')).toThrow("'redo' is not an action; choose one of: retry, skip, abort.");
    expect(parseNightStatus('needs_attention')).toBe('NEEDS_ATTENTION');
    expect(() => parseNightStatus('STUCK')).toThrow("'STUCK' is not a night status; choose one of: RUNNING, AWAITING_FEEDS, LATE, NEEDS_ATTENTION, COMPLETED, FAILED, CANCELLED.");
  });

  test('--overrides is JSON checked with SparkResourcesOverrideSchema: bad JSON, unknown or invalid fields and an empty object are refused', () => {
    expect(parseSparkOverrides('{"driverMemoryMb":4096,"executorInstances":4}')).toEqual({ driverMemoryMb: 4096, executorInstances: 4 });
    expect(() => parseSparkOverrides('{driverMemoryMb:4096}')).toThrow(`'{driverMemoryMb:4096}' is not JSON; write an object such as '{"driverMemoryMb":4096}'.`);
    expect(() => parseSparkOverrides('{"driverMemory":4096}')).toThrow('not valid Spark resources: (root): unexpected field(s) driverMemory.');
    expect(() => parseSparkOverrides('{"driverMemoryMb":-1}')).toThrow(/not valid Spark resources: driverMemoryMb: /);
    expect(() => parseSparkOverrides('[4096]')).toThrow('not valid Spark resources');
    expect(() => parseSparkOverrides('{}')).toThrow('names no resource; give at least one of: driverMemoryMb,');
  });
});

describe('flags that only fail together', () => {
  test('resolve: --feed only for ingest, --overrides only for a retry of a Spark step', () => {
    expect(resolveRequest({ step: 'ingest', feed: 'payments', action: 'skip', reason: 'late again', by: 'ops' })).toEqual({
      step: 'ingest',
      feed: 'payments',
      action: 'skip',
      reason: 'late again',
      by: 'ops',
    });
    expect(resolveRequest({ step: 'transform', action: 'retry', overrides: { driverMemoryMb: 4096 } })).toEqual({ step: 'transform', action: 'retry', overrides: { driverMemoryMb: 4096 } });
    expect(() => resolveRequest({ step: 'normalize', feed: 'payments', action: 'retry' })).toThrow('--feed names the feed of a parked ingest; it does not apply to --step normalize.');
    expect(() => resolveRequest({ step: 'export', action: 'retry', overrides: { driverMemoryMb: 4096 } })).toThrow(
      '--overrides sizes a Spark step (normalize, transform); it does not apply to --step export.',
    );
    expect(() => resolveRequest({ step: 'normalize', action: 'abort', overrides: { driverMemoryMb: 4096 } })).toThrow('--overrides applies to --action retry, not --action abort.');
  });

  test('date ranges: --from after --to is refused; a backfill spans at most 366 days', () => {
    expect(() => checkDateRange('2026-11-20', '2026-11-19')).toThrow('--from 2026-11-20 is after --to 2026-11-19.');
    expect(() => checkDateRange(undefined, '2026-11-19')).not.toThrow();
    expect(() => checkBackfillRange('2026-01-01', '2026-12-31')).not.toThrow();
    expect(() => checkBackfillRange('2025-01-01', '2026-12-31')).toThrow('spans more than 366 days');
  });

  test('feed-arrived is checked by FeedArrivalSchema and its problems name the flags', () => {
    const arrival = feedArrivalFromFlags({ businessDate: '2026-11-20', tenant: 'bank', feed: 'payments', uri: 's3://landing/payments.csv', sha256: 'ab'.repeat(32) });
    expect(arrival).toEqual({ businessDate: '2026-11-20', tenant: 'bank', feed: 'payments', uri: 's3://landing/payments.csv', sha256: 'ab'.repeat(32) });
    expect(() => feedArrivalFromFlags({ businessDate: '2026-11-20', tenant: 'bank', feed: 'payments', uri: 'https://x/payments.csv' })).toThrow(
      'invalid feed arrival: --uri: must be a file://, s3://, s3a://, gs://, abfs(s):// or hdfs:// URI.',
    );
    expect(() => feedArrivalFromFlags({ businessDate: '2026-11-20', tenant: 'bank', feed: 'payments', uri: 'file:///x', sha256: 'AB' })).toThrow(
      'invalid feed arrival: --sha256: must be 64 lower-case hex digits.',
    );
  });

  test('schedule upsert takes time and zone from configuration (the flags stand in for NIGHTJAR_SCHEDULE_TIME / NIGHTJAR_TIME_ZONE) and needs a time', () => {
    const config = loadConfig({ NIGHTJAR_SCHEDULE_TIME: '05:30', NIGHTJAR_TIME_ZONE: 'Europe/Brussels', NIGHTJAR_TASK_QUEUE: 'nightly' });
    expect(scheduleOptions(config, 'bank', 'set up')).toEqual({
      tenant: 'bank',
      taskQueue: 'nightly',
      time: '05:30',
      timeZone: 'Europe/Brussels',
      catchupWindowSeconds: 12 * 3600,
      lookbackDays: 10,
      note: 'set up',
    });
    expect(() => scheduleOptions(loadConfig({}), 'bank', undefined)).toThrow(new UsageError('no time for the nightly run: give --time HH:MM or set NIGHTJAR_SCHEDULE_TIME.'));
  });
});

describe('the command line, run in-process', () => {
  test('every new command has --help, and --json where it prints data', async () => {
    for (const command of ['start', 'status', 'list', 'resolve', 'hold', 'release', 'cancel', 'feed-arrived', 'backfill', 'janitor', 'triggers']) {
      const run = await cli([command, '--help']);
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(run.stdout).toContain(`Usage: nightjar ${command} [options]`);
      expect(run.stdout).toContain('--json');
    }
    for (const sub of ['upsert', 'describe', 'pause', 'unpause', 'delete']) {
      const run = await cli(['schedule', sub, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('--json');
    }
  });

  test('start: --date is required and checked; tenant and driver memory are checked', async () => {
    await expectUsageError(['start'], "error: required option '--date <date>' not specified");
    await expectUsageError(['start', '--date', '2026-11-31'], "'2026-11-31' is not a calendar date written as YYYY-MM-DD.");
    await expectUsageError(['start', '--date', '2026-11-20', '--tenant', 'Bank'], "'Bank' is not a tenant");
    await expectUsageError(['start', '--date', '2026-11-20', '--driver-memory', '100'], "'100' is not a memory size in MiB");
    await expectUsageError(['start', '--date', '2026-11-20', '--memory', '4096'], "error: unknown option '--memory'");
    const config = await expectAccepted(['start', '--date', '2026-11-20', '--driver-memory', '4096', '--force'], { NIGHTJAR_TENANT: 'bank' });
    expect(config.tenant).toBe('bank');
  });

  test('a tenant other than NIGHTJAR_TENANT is refused by every command that takes one, before any connection', async () => {
    for (const args of [
      ['start', '--date', '2026-11-20'],
      ['status', '--date', '2026-11-20'],
      ['list'],
      ['feed-arrived', '--date', '2026-11-20', '--feed', 'payments', '--uri', 's3://landing/payments.csv'],
      ['cancel', '--date', '2026-11-20'],
      ['schedule', 'describe'],
    ]) {
      const run = await cli([...args, '--tenant', 'globex'], { NIGHTJAR_TENANT: 'bank' });
      expect({ args, code: run.code, connected: run.connectedWith !== undefined }).toEqual({ args, code: 1, connected: false });
      expect(run.stderr).toContain("tenant 'globex' is not served by this configuration (NIGHTJAR_TENANT=bank)");
    }
  });

  test('status and cancel: the date and tenant are checked; a reason is one line', async () => {
    await expectUsageError(['status'], "required option '--date <date>' not specified");
    await expectUsageError(['status', '--date', '20-11-2026'], "'20-11-2026' is not a calendar date");
    await expectUsageError(['cancel', '--date', '2026-11-20', '--reason', 'a\nb'], "option '--reason <text>' argument 'a\nb' is invalid. must be one line.");
    await expectAccepted(['status', '--date', '2026-11-20', '--json']);
    await expectAccepted(['cancel', '--date', '2026-11-20', '--reason', 'wrong extract delivered']);
  });

  test('list: status, dates and limit are checked, and --from must not be after --to', async () => {
    await expectUsageError(['list', '--status', 'STUCK'], "'STUCK' is not a night status");
    await expectUsageError(['list', '--limit', '0'], "'0' is not a whole number ≥ 1.");
    await expectUsageError(['list', '--from', '2026-11-20', '--to', '2026-11-01'], 'error: --from 2026-11-20 is after --to 2026-11-01.');
    await expectAccepted(['list', '--status', 'needs_attention', '--tenant', 'bank', '--from', '2026-11-01', '--to', '2026-11-20', '--limit', '10'], { NIGHTJAR_TENANT: 'bank' });
  });

  test('resolve: step, action, feed and overrides are checked alone and together', async () => {
    const base = ['resolve', '--date', '2026-11-20'];
    await expectUsageError([...base, '--step', 'normalize'], "required option '--action <action>' not specified");
    await expectUsageError([...base, '--step', 'finalize', '--action', 'retry'], "'finalize' is not a step a night waits on");
    await expectUsageError([...base, '--step', 'normalize', '--action', 'redo'], "'redo' is not an action");
    await expectUsageError([...base, '--step', 'normalize', '--action', 'retry', '--overrides', '{"driverMemoryMb":"4g"}'], 'not valid Spark resources: driverMemoryMb');
    await expectUsageError([...base, '--step', 'normalize', '--action', 'retry', '--overrides', 'driverMemoryMb=4096'], 'is not JSON');
    await expectUsageError([...base, '--step', 'normalize', '--action', 'abort', '--overrides', '{"driverMemoryMb":4096}'], 'error: --overrides applies to --action retry, not --action abort.');
    await expectUsageError([...base, '--step', 'transform', '--feed', 'payments', '--action', 'retry'], 'error: --feed names the feed of a parked ingest');
    await expectUsageError([...base, '--step', 'ingest', '--feed', 'loans', '--action', 'skip'], "'loans' is not a feed");
    await expectAccepted([...base, '--step', 'normalize', '--action', 'retry', '--overrides', '{"driverMemoryMb":4096}', '--reason', 'more memory', '--by', 'ops']);
    await expectAccepted([...base, '--step', 'ingest', '--feed', 'payments', '--action', 'skip']);
  });

  test('hold needs a reason that is not blank; release takes an optional --by', async () => {
    await expectUsageError(['hold', '--date', '2026-11-20'], "required option '--reason <text>' not specified");
    await expectUsageError(['hold', '--date', '2026-11-20', '--reason', '  '], 'must not be blank.');
    await expectUsageError(['release', '--date', '2026-11-20', '--by', ''], 'must not be blank.');
    await expectAccepted(['hold', '--date', '2026-11-20', '--reason', 'finance checks the FX rates', '--by', 'controller']);
    await expectAccepted(['release', '--date', '2026-11-20']);
  });

  test('feed-arrived: feed, uri and sha256 are checked, naming the flag', async () => {
    const base = ['feed-arrived', '--date', '2026-11-20'];
    await expectUsageError([...base, '--feed', 'payments'], "required option '--uri <uri>' not specified");
    await expectUsageError([...base, '--feed', 'loans', '--uri', 'file:///x'], "'loans' is not a feed");
    await expectUsageError([...base, '--feed', 'payments', '--uri', '/landing/payments.csv'], 'error: invalid feed arrival: --uri: must be a file://');
    await expectUsageError([...base, '--feed', 'payments', '--uri', 'file:///x', '--sha256', 'abc'], 'error: invalid feed arrival: --sha256: must be 64 lower-case hex digits.');
    await expectAccepted([...base, '--feed', 'payments', '--uri', 's3://landing/2026-11-20/payments.csv', '--sha256', '0f'.repeat(32)]);
  });

  test('backfill: both ends required, a concurrency ≥ 1, an ordered range of at most 366 days', async () => {
    await expectUsageError(['backfill', '--from', '2026-11-01'], "required option '--to <date>' not specified");
    await expectUsageError(['backfill', '--from', '2026-11-01', '--to', '2026-11-20', '--concurrency', '0'], "'0' is not a whole number ≥ 1.");
    await expectUsageError(['backfill', '--from', '2026-11-20', '--to', '2026-11-01'], '--from 2026-11-20 is after --to 2026-11-01.');
    await expectUsageError(['backfill', '--from', '2016-11-01', '--to', '2026-11-20'], 'spans more than 366 days');
    await expectAccepted(['backfill', '--from', '2026-11-01', '--to', '2026-11-20', '--concurrency', '2', '--force']);
  });

  test('schedule: upsert needs a time from --time or NIGHTJAR_SCHEDULE_TIME; time and zone are checked; a group without a command is a usage error', async () => {
    await expectUsageError(['schedule'], 'Usage: nightjar schedule');
    await expectUsageError(['schedule', 'upsert'], 'error: no time for the nightly run: give --time HH:MM or set NIGHTJAR_SCHEDULE_TIME.');
    await expectUsageError(['schedule', 'upsert', '--time', '6am'], "'6am' is not a 24-hour time");
    await expectUsageError(['schedule', 'upsert', '--time', '06:00', '--time-zone', 'CET+1'], "'CET+1' is not an IANA time zone name");
    await expectUsageError(['schedule', 'pause', '--note', ' '], 'must not be blank.');
    const fromFlags = await expectAccepted(['schedule', 'upsert', '--time', '06:00', '--time-zone', 'Europe/Brussels'], { NIGHTJAR_SCHEDULE_TIME: '04:00' });
    expect({ time: fromFlags.schedule?.time, zone: fromFlags.calendar.timeZone }).toEqual({ time: '06:00', zone: 'Europe/Brussels' });
    const fromConfig = await expectAccepted(['schedule', 'upsert'], { NIGHTJAR_SCHEDULE_TIME: '04:00', NIGHTJAR_TIME_ZONE: 'America/New_York' });
    expect({ time: fromConfig.schedule?.time, zone: fromConfig.calendar.timeZone }).toEqual({ time: '04:00', zone: 'America/New_York' });
    for (const sub of ['describe', 'pause', 'unpause', 'delete']) await expectAccepted(['schedule', sub, '--tenant', 'bank'], { NIGHTJAR_TENANT: 'bank' });
  });

  test('janitor: --min-age is a whole number of seconds; triggers needs something to serve', async () => {
    await expectUsageError(['janitor', '--min-age', '-1'], "error: option '--min-age <seconds>' argument '-1' is invalid.");
    await expectAccepted(['janitor', '--dry-run', '--min-age', '0']);
    await expectUsageError(['triggers'], 'error: nothing to serve: set NIGHTJAR_HTTP_TOKENS');
  });

  test('an invalid configuration is a usage error naming the variable', async () => {
    await expectUsageError(['status', '--date', '2026-11-20'], 'NIGHTJAR_TENANT="Bank EU"', { NIGHTJAR_TENANT: 'Bank EU' });
  });
});

test('exit codes: 2 for command lines and configuration, 1 for refusals and an unreachable server, none for the unexpected', () => {
  expect(exitCodeOf(new UsageError('x'))).toBe(2);
  expect(exitCodeOf(new ConfigError(['NIGHTJAR_TENANT="": bad']))).toBe(2);
  expect(exitCodeOf(new OperationRefused('x'))).toBe(1);
  expect(exitCodeOf(new TemporalUnreachable('x'))).toBe(1);
  expect(exitCodeOf(new TriggerRejected({ code: 'NIGHT_COMPLETED', status: 409, message: 'done' }))).toBe(1);
  expect(exitCodeOf(new Error('boom'))).toBeUndefined();
});

test('list builds its visibility query from the search attributes; open statuses also need a running execution', () => {
  expect(nightsQuery({})).toBe("WorkflowType = 'dailyPipeline'");
  expect(nightsQuery({ tenant: 'bank', status: 'NEEDS_ATTENTION', from: '2026-11-01', to: '2026-11-20' })).toBe(
    "WorkflowType = 'dailyPipeline' AND NightjarTenant = 'bank' AND NightjarStatus = 'NEEDS_ATTENTION' AND ExecutionStatus = 'Running' " +
      "AND NightjarBusinessDate >= '2026-11-01' AND NightjarBusinessDate <= '2026-11-20'",
  );
  expect(nightsQuery({ status: 'COMPLETED' })).toBe("WorkflowType = 'dailyPipeline' AND NightjarStatus = 'COMPLETED'");
  // A night listed before any worker set its search attributes is named from its workflow id.
  for (const night of [{ businessDate: '2026-11-20', tenant: 'default' }, { businessDate: '2026-11-20', tenant: 'bank-eu-2' }]) {
    expect(nightOfWorkflowId(dailyWorkflowId(night.businessDate, night.tenant))).toEqual(night);
  }
  expect(nightOfWorkflowId('nightjar-nightly-bank-2026-11-20T05:00:00Z')).toBeUndefined();
  // A child's id names its night only when children are asked for (log context), never in a listing.
  const child = sparkJobWorkflowId(dailyWorkflowId('2026-11-20', 'bank-eu-2'), 'normalize-r2');
  expect(nightOfWorkflowId(child)).toBeUndefined();
  expect(nightOfWorkflowId(child, { children: true })).toEqual({ businessDate: '2026-11-20', tenant: 'bank-eu-2' });
  expect(workflowUiLink({ uiUrl: 'http://localhost:8233', namespace: 'default' }, 'nightjar-daily-2026-11-20')).toBe(
    'http://localhost:8233/namespaces/default/workflows/nightjar-daily-2026-11-20',
  );
});

describe('status rendering', () => {
  const resources = { driverMemoryMb: 1024, driverCores: 1, executorMemoryMb: 2048, executorCores: 1, executorInstances: 2, memoryOverheadMb: null, shufflePartitions: 8 };
  const parkedAtNormalize: PipelineStatus = {
    businessDate: '2026-11-20',
    tenant: 'bank',
    status: 'NEEDS_ATTENTION',
    stage: 'normalize',
    late: true,
    feeds: [
      { feed: 'customers', required: true, state: 'INGESTED', via: 'discovery', uri: 'file:///landing/customers.csv', cutoffAt: '2026-11-21T04:00:00.000Z' },
      { feed: 'fx_rates', required: false, state: 'SKIPPED', cutoffAt: '2026-11-21T04:00:00.000Z' },
    ],
    manifestFeeds: [
      {
        feed: 'customers',
        status: 'INGESTED',
        rowsIn: 1200,
        rowsAccepted: 1198,
        rowsRejected: 2,
        rejectReasons: { DUPLICATE_KEY: 2 },
        controlCount: 1200,
        controlSum: '0',
        sha256: 'ab'.repeat(32),
        rawUri: 'file:///raw/customers.csv',
        rejectsUri: null,
      },
    ],
    steps: [
      { step: 'ingest', status: 'COMPLETED', startedAt: '2026-11-21T05:00:00.000Z', finishedAt: '2026-11-21T05:00:02.500Z', attempts: [] },
      {
        step: 'normalize',
        status: 'FAILED',
        startedAt: '2026-11-21T05:00:03.000Z',
        finishedAt: '2026-11-21T05:01:03.000Z',
        attempts: [
          { attempt: 1, outcome: 'OUT_OF_MEMORY', oomSide: 'driver', reason: 'Java heap space', resources, startedAt: '2026-11-21T05:00:03.000Z', finishedAt: '2026-11-21T05:00:30.000Z', durationMs: 27000 },
          { attempt: 2, outcome: 'PERMANENT', reason: 'AnalysisException: column not found', resources: { ...resources, driverMemoryMb: 2048 }, startedAt: '2026-11-21T05:00:31.000Z', finishedAt: '2026-11-21T05:01:03.000Z', durationMs: 32000 },
        ],
      },
    ],
    parked: {
      step: 'normalize',
      error: { type: 'SparkJobFailed', message: 'normalize failed: AnalysisException: column not found' },
      since: '2026-11-21T05:01:03.000Z',
      actions: ['retry', 'abort'],
    },
    decisions: [{ step: 'ingest', feed: 'fx_rates', action: 'skip', by: 'ops', reason: 'treasury outage' }],
    error: { step: 'normalize', type: 'SparkJobFailed', message: 'normalize failed: AnalysisException: column not found' },
    startedAt: '2026-11-21T05:00:00.000Z',
  };

  test('a parked step shows its error, the allowed actions and the exact resolve command of each', () => {
    const text = renderStatus(parkedAtNormalize, { workflowId: 'nightjar-daily-bank-2026-11-20', uiLink: 'http://localhost:8233/namespaces/default/workflows/nightjar-daily-bank-2026-11-20' });
    expect(text).toContain('Night bank 2026-11-20: NEEDS_ATTENTION (LATE, stage normalize)');
    expect(text).toContain('http://localhost:8233/namespaces/default/workflows/nightjar-daily-bank-2026-11-20');
    expect(text).toContain('NEEDS ATTENTION: normalize failed, waiting since 2026-11-21T05:01:03.000Z');
    expect(text).toContain('[SparkJobFailed] normalize failed: AnalysisException: column not found');
    expect(text).toContain('allowed actions: retry, abort');
    expect(text).toContain('    nightjar resolve --date 2026-11-20 --tenant bank --step normalize --action retry\n');
    expect(text).toContain('    nightjar resolve --date 2026-11-20 --tenant bank --step normalize --action abort\n');
    expect(text).not.toContain('--action skip');
    expect(text).toContain(`add --overrides '{"driverMemoryMb":4096}'`);
    // Feeds with their states and rows, steps with every Spark attempt, the decisions so far.
    expect(text).toMatch(/customers\s+INGESTED\s+yes\s+discovery\s+1,200\s+1,198\s+2/);
    expect(text).toMatch(/fx_rates\s+SKIPPED\s+no/);
    expect(text).toMatch(/normalize\s+FAILED\s+2\s+60\.0s/);
    expect(text).toContain('attempt 1: OUT_OF_MEMORY (driver) — driver 1,024 MiB, executors 2 × 2,048 MiB — Java heap space');
    expect(text).toContain('attempt 2: PERMANENT — driver 2,048 MiB');
    expect(text).toContain('ingest (fx_rates): skip by ops — treasury outage');
    // The parked error is shown once, with the decision to make.
    expect(text).not.toContain('Error in normalize');
  });

  test('a parked ingest names its feed in the command; an export hold shows how to release it; a failed night shows its error', () => {
    const parkedIngest: PipelineStatus = {
      ...parkedAtNormalize,
      tenant: 'default',
      stage: 'ingest',
      late: false,
      steps: [],
      decisions: [],
      parked: { step: 'ingest', feed: 'payments', error: { type: 'FeedRejected', message: 'trailer count mismatch' }, since: '2026-11-21T05:00:01.000Z', actions: ['retry', 'skip', 'abort'] },
    };
    const text = renderStatus(parkedIngest);
    expect(text).toContain('NEEDS ATTENTION: ingest (payments) failed');
    expect(text).toContain('nightjar resolve --date 2026-11-20 --tenant default --step ingest --feed payments --action skip');
    expect(text).not.toContain('--overrides');
    expect(resolveCommand(parkedIngest, parkedIngest.parked!, 'retry')).toBe('nightjar resolve --date 2026-11-20 --tenant default --step ingest --feed payments --action retry');

    const { parked: _parked, ...unparked } = parkedAtNormalize;
    const held = renderStatus({ ...unparked, status: 'RUNNING', stage: 'export', late: false, exportHold: { reason: 'finance check', by: 'controller', since: '2026-11-21T06:00:00.000Z' } });
    expect(held).toContain('Export held by controller since 2026-11-21T06:00:00.000Z: finance check');
    expect(held).toContain('release with: nightjar release --date 2026-11-20 --tenant bank');
    expect(held).not.toContain('NEEDS ATTENTION');

    const failed = renderStatus({ ...unparked, status: 'FAILED', stage: 'done', late: false });
    expect(failed).toContain('Night bank 2026-11-20: FAILED\n');
    expect(failed).toContain('Error in normalize: [SparkJobFailed] normalize failed: AnalysisException: column not found');
  });
});
