import { InvalidArgumentError, type Command } from 'commander';
import { isBusinessDate } from '../domain/business-date';
import { TimeZoneSchema, WallClockTimeSchema } from '../domain/calendar';
import { FEED_NAMES, type FeedName } from '../domain/feeds/catalog';
import type { NightStatus, StepName } from '../domain/pipeline';
import { SPARK_JOBS, SparkResourcesOverrideSchema } from '../domain/spark/resources';
import { describeIssues, TenantSchema } from '../domain/triggers';
import type { ResolveAction, ResolveStepRequest } from '../workflows/messages';

/** Commander argument parsers that fail with a message naming the flag's rule. */
export function parseBusinessDate(value: string): string {
  if (!isBusinessDate(value)) throw new InvalidArgumentError(`'${value}' is not a calendar date written as YYYY-MM-DD.`);
  return value;
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 0.`);
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 1.`);
  return Number(value);
}

/** Spark memory in MiB: configuration refuses less than 256 MiB, so a flag does too. */
export const MIN_MEMORY_MB = 256;

export function parseMemoryMb(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < MIN_MEMORY_MB) {
    throw new InvalidArgumentError(`'${value}' is not a memory size in MiB (a whole number ≥ ${MIN_MEMORY_MB}).`);
  }
  return Number(value);
}

export function parseTenant(value: string): string {
  if (!TenantSchema.safeParse(value).success) {
    throw new InvalidArgumentError(`'${value}' is not a tenant: 1-32 lower-case letters, digits or - (not at the ends).`);
  }
  return value;
}

export function parseFeedName(value: string): FeedName {
  const feed = FEED_NAMES.find((f) => f === value);
  if (feed === undefined) throw new InvalidArgumentError(`'${value}' is not a feed; choose one of: ${FEED_NAMES.join(', ')}.`);
  return feed;
}

export function parseWallClockTime(value: string): string {
  if (!WallClockTimeSchema.safeParse(value).success) throw new InvalidArgumentError(`'${value}' is not a 24-hour time written as HH:MM (00:00 to 23:59).`);
  return value;
}

export function parseTimeZone(value: string): string {
  const checked = TimeZoneSchema.safeParse(value);
  if (!checked.success) throw new InvalidArgumentError(`${checked.error.issues[0]?.message ?? `'${value}' is not an IANA time zone name`}.`);
  return value;
}

/** Free text for reasons, notes and names: not blank, one line, bounded. */
export function parseText(value: string): string {
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('must not be blank.');
  if (/[\r\n]/.test(text)) throw new InvalidArgumentError('must be one line.');
  if (text.length > 500) throw new InvalidArgumentError(`must be at most 500 characters (got ${text.length}).`);
  return text;
}

/** Steps a night can park on (and so the steps `resolve` can decide). */
export const PARKABLE_STEPS = ['ingest', 'normalize', 'transform', 'export'] as const satisfies readonly StepName[];
export type ParkableStep = (typeof PARKABLE_STEPS)[number];
/** The Spark steps: the only ones a retry can give new resources. */
export const SPARK_STEPS = SPARK_JOBS satisfies readonly ParkableStep[];

export function parseStep(value: string): ParkableStep {
  const step = PARKABLE_STEPS.find((s) => s === value);
  if (step === undefined) throw new InvalidArgumentError(`'${value}' is not a step a night waits on; choose one of: ${PARKABLE_STEPS.join(', ')}.`);
  return step;
}

export const RESOLVE_ACTIONS = ['retry', 'skip', 'abort'] as const satisfies readonly ResolveAction[];

export function parseResolveAction(value: string): ResolveAction {
  const action = RESOLVE_ACTIONS.find((a) => a === value);
  if (action === undefined) throw new InvalidArgumentError(`'${value}' is not an action; choose one of: ${RESOLVE_ACTIONS.join(', ')}.`);
  return action;
}

export const NIGHT_STATUSES = ['RUNNING', 'AWAITING_FEEDS', 'LATE', 'NEEDS_ATTENTION', 'COMPLETED', 'FAILED', 'CANCELLED'] as const satisfies readonly NightStatus[];

/** A night status, in any case (`needs_attention` is NEEDS_ATTENTION). */
export function parseNightStatus(value: string): NightStatus {
  const status = NIGHT_STATUSES.find((s) => s === value.toUpperCase());
  if (status === undefined) throw new InvalidArgumentError(`'${value}' is not a night status; choose one of: ${NIGHT_STATUSES.join(', ')}.`);
  return status;
}

export type SparkResourcesOverride = NonNullable<ResolveStepRequest['overrides']>;

/** `--overrides '{"driverMemoryMb":4096}'`: some Spark resources, checked field by field. */
export function parseSparkOverrides(value: string): SparkResourcesOverride {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not JSON; write an object such as '{"driverMemoryMb":4096}'.`);
  }
  const checked = SparkResourcesOverrideSchema.safeParse(json);
  if (!checked.success) throw new InvalidArgumentError(`not valid Spark resources: ${describeIssues(checked.error)}.`);
  if (Object.keys(checked.data).length === 0) {
    throw new InvalidArgumentError(`names no resource; give at least one of: ${Object.keys(SparkResourcesOverrideSchema.shape).join(', ')}.`);
  }
  return checked.data;
}

export function parseRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`'${value}' is not a rate between 0 and 1 (e.g. 0.01 for 1%).`);
  }
  return n;
}

/** Yesterday in UTC: the business date a T+1 run processes by default. */
export function previousDay(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}

/**
 * Where the demo runs Spark: this machine, or the project's local Kubernetes control plane
 * (scripts/k8s.sh) with the spark-operator and kubelet played by local-cluster/.
 */
export const SPARK_PLATFORM_CHOICES = ['local', 'local-kubernetes'] as const;
export type SparkPlatformChoice = (typeof SPARK_PLATFORM_CHOICES)[number];

/** What the local cluster's operator stand-in does to each Spark attempt (played by local-cluster/scenarios.ts). */
export const SCENARIO_NAMES = ['success', 'executor-oom', 'driver-oom', 'image-pull-backoff', 'eviction', 'stuck-submitted', 'application-error', 'leaky'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function parseSparkPlatform(value: string): SparkPlatformChoice {
  const choice = SPARK_PLATFORM_CHOICES.find((c) => c === value);
  if (choice === undefined) throw new InvalidArgumentError(`'${value}' is not a Spark platform; choose one of: ${SPARK_PLATFORM_CHOICES.join(', ')}.`);
  return choice;
}

export function parseScenario(value: string): ScenarioName {
  const name = SCENARIO_NAMES.find((n) => n === value);
  if (name === undefined) throw new InvalidArgumentError(`'${value}' is not a scenario; choose one of: ${SCENARIO_NAMES.join(', ')}.`);
  return name;
}

/** How the demo's attempts reach the local plane: the spark-operator (played by local-cluster/) or spark-submit's own cluster mode. */
export const KUBERNETES_SUBMIT_CHOICES = ['operator', 'spark-submit'] as const;
export type KubernetesSubmitChoice = (typeof KUBERNETES_SUBMIT_CHOICES)[number];

export function parseKubernetesSubmit(value: string): KubernetesSubmitChoice {
  const choice = KUBERNETES_SUBMIT_CHOICES.find((c) => c === value);
  if (choice === undefined) throw new InvalidArgumentError(`'${value}' is not a way to submit to Kubernetes; choose one of: ${KUBERNETES_SUBMIT_CHOICES.join(', ')}.`);
  return choice;
}

/**
 * What spark-submit mode runs for real: the pods are real processes, so only what real Spark does
 * on its own — succeed, or lose executors to memory at the scenario's small sizes. The other
 * scenarios are plays of the operator stand-in.
 */
export const SPARK_SUBMIT_SCENARIOS: readonly ScenarioName[] = ['success', 'executor-oom'];

export type DemoSparkPlatform =
  | { readonly kind: 'local' }
  | { readonly kind: 'local-kubernetes'; readonly submit: KubernetesSubmitChoice; readonly scenario: ScenarioName };

/**
 * The demo's Spark platform from its flags. A scenario and a way to submit need the local plane;
 * spark-submit mode takes only the scenarios real Spark plays.
 */
export function demoSparkPlatform(platform: SparkPlatformChoice, scenario: ScenarioName | undefined, submit?: KubernetesSubmitChoice): DemoSparkPlatform {
  if (platform === 'local') {
    if (scenario !== undefined) throw new InvalidArgumentError(`--scenario ${scenario} needs --spark-platform local-kubernetes (local Spark runs as it runs).`);
    if (submit !== undefined) throw new InvalidArgumentError(`--kubernetes-submit ${submit} needs --spark-platform local-kubernetes (local Spark is not submitted to Kubernetes).`);
    return { kind: 'local' };
  }
  const mode = submit ?? 'operator';
  if (mode === 'spark-submit' && scenario !== undefined && !SPARK_SUBMIT_SCENARIOS.includes(scenario)) {
    throw new InvalidArgumentError(
      `--scenario ${scenario} is played by the operator stand-in: use it with --kubernetes-submit operator (with spark-submit, real Spark runs: ${SPARK_SUBMIT_SCENARIOS.join(' or ')}).`,
    );
  }
  return { kind: 'local-kubernetes', submit: mode, scenario: scenario ?? 'success' };
}

/** What the first attempt of a job asks for, and how much more an out-of-memory retry asks for. */
export interface DemoSizes {
  readonly driverMemoryMb: number;
  readonly executorMemoryMb: number;
  readonly memoryFactor: number;
}

/** What the demo does when its night parks. */
export function parseOnPark(value: string): 'auto' | 'wait' | 'abort' {
  if (value === 'auto' || value === 'wait' || value === 'abort') return value;
  throw new InvalidArgumentError(`expected auto, wait or abort, got '${value}'`);
}

/**
 * `--date` and `--business-date`, the same flag under two names on every command that takes a
 * business date. A hook merges them before the action runs (both set the same: fine; different:
 * refused) and sets `date` and `businessDate` alike; `fallback` supplies a default when neither is
 * given, else the flag is required.
 */
export function addDateOptions(command: Command, help: string, fallback?: () => string): Command {
  return command
    .option('--date <date>', `${help}${fallback ? ' (default: yesterday, UTC)' : ''}`, parseBusinessDate)
    .option('--business-date <date>', 'the same as --date', parseBusinessDate)
    .hook('preAction', (self) => {
      const { date, businessDate } = self.opts<{ date?: string; businessDate?: string }>();
      if (date !== undefined && businessDate !== undefined && date !== businessDate) {
        self.error(`error: --date ${date} and --business-date ${businessDate} disagree; give one of them.`, { exitCode: 2, code: 'commander.conflictingOption' });
      }
      const chosen = date ?? businessDate ?? fallback?.();
      if (chosen === undefined) self.error(`error: required option '--date <date>' not specified (or --business-date)`, { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
      self.setOptionValue('date', chosen);
      self.setOptionValue('businessDate', chosen);
    });
}
