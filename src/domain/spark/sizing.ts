import { z } from 'zod';
import { BusinessDate, isBusinessDate } from '../business-date';
import { SPARK_JOBS, SparkResourcesSchema, type SparkJobName, type SparkResources } from './resources';

/**
 * Learned sizing: a night starts from the resources that last succeeded, and steps back down
 * toward the configured baseline after enough clean nights. Pure functions over a small record
 * that an activity stores as JSON; the workflow calls them, so they stay deterministic.
 */

/** How many changes a record keeps (the newest). */
export const SIZING_HISTORY_LIMIT = 20;

export type SizingChange = 'learned' | 'stepped-down' | 'reset';

export interface SizingHistoryEntry {
  readonly businessDate: string;
  readonly change: SizingChange;
  /** What nights start from after the change (the configured baseline when nothing is learned). */
  readonly resources: SparkResources;
}

/** One per (tenant, job); JSON-serializable. */
export interface SizingRecord {
  readonly job: SparkJobName;
  /** The configured baseline when the record was last written. */
  readonly configured: SparkResources;
  /** What nights start from, never below `configured`; null: the configured baseline. */
  readonly learned: SparkResources | null;
  /** Consecutive nights that succeeded on the first attempt starting from `learned`. */
  readonly cleanNights: number;
  /** YYYY-MM-DD of the last night recorded: older or repeated nights are ignored. */
  readonly lastBusinessDate: string;
  /** The last {@link SIZING_HISTORY_LIMIT} changes, oldest first. */
  readonly history: readonly SizingHistoryEntry[];
}

export interface SizingPolicy {
  /** Clean nights in a row before stepping down (integer ≥ 1). */
  readonly stepDownAfterCleanNights: number;
  /** Learned memory is divided by this on a step down (> 1). */
  readonly stepDownFactor: number;
}

export interface StartingResources {
  readonly resources: SparkResources;
  readonly source: 'configured' | 'learned';
  readonly cleanNights: number;
}

/** How one night of a job went, as the pipeline saw it. */
export interface SizingNight {
  readonly job: SparkJobName;
  readonly businessDate: string;
  /** The configured baseline that night. */
  readonly configured: SparkResources;
  /** What the first attempt asked for. */
  readonly startedFrom: SparkResources;
  /** What the last attempt asked for (equal to `startedFrom` when nothing escalated). */
  readonly finalResources: SparkResources;
  readonly attempts: number;
  readonly succeeded: boolean;
}

export interface RecordedNight {
  readonly record: SizingRecord;
  /** The newest change this night made, when it made one (all of them are in the history). */
  readonly change?: SizingChange;
}

const RESOURCE_KEYS = [
  'driverMemoryMb',
  'driverCores',
  'executorMemoryMb',
  'executorCores',
  'executorInstances',
  'memoryOverheadMb',
  'shufflePartitions',
] as const satisfies readonly (keyof SparkResources)[];

type CountKey = Exclude<(typeof RESOURCE_KEYS)[number], 'driverMemoryMb' | 'executorMemoryMb' | 'memoryOverheadMb'>;
const COUNT_KEYS: readonly CountKey[] = ['driverCores', 'executorCores', 'executorInstances', 'shufflePartitions'];

function sameResources(a: SparkResources, b: SparkResources): boolean {
  return RESOURCE_KEYS.every((k) => a[k] === b[k]);
}

/**
 * True when `learned` asks for no less memory than `configured` on any memory field. A null
 * overhead (Spark's default) and an explicit one are not comparable, so they do not qualify.
 */
function coversMemory(learned: SparkResources, configured: SparkResources): boolean {
  const overhead =
    learned.memoryOverheadMb === null || configured.memoryOverheadMb === null
      ? learned.memoryOverheadMb === configured.memoryOverheadMb
      : learned.memoryOverheadMb >= configured.memoryOverheadMb;
  return learned.driverMemoryMb >= configured.driverMemoryMb && learned.executorMemoryMb >= configured.executorMemoryMb && overhead;
}

/** Field by field, the larger of the two: a start is never below the configured baseline. */
function atLeast(learned: SparkResources, configured: SparkResources): SparkResources {
  const overhead =
    learned.memoryOverheadMb === null || configured.memoryOverheadMb === null
      ? configured.memoryOverheadMb
      : Math.max(learned.memoryOverheadMb, configured.memoryOverheadMb);
  const counts = Object.fromEntries(COUNT_KEYS.map((k) => [k, Math.max(learned[k], configured[k])])) as Record<CountKey, number>;
  return {
    ...counts,
    driverMemoryMb: Math.max(learned.driverMemoryMb, configured.driverMemoryMb),
    executorMemoryMb: Math.max(learned.executorMemoryMb, configured.executorMemoryMb),
    memoryOverheadMb: overhead,
  };
}

/**
 * Where tonight's run of a job starts. The learned resources apply while the configured
 * baseline is the one they were learned against; once the baseline changes (an operator raised
 * it, say), they still apply only if they ask for at least as much memory on every memory field
 * (driver, executor, overhead), since escalation grows one side and leaves the other as
 * configured. Either way no field starts below the configured baseline.
 */
export function startingResources(configured: SparkResources, record: SizingRecord | undefined): StartingResources {
  if (record === undefined) return { resources: configured, source: 'configured', cleanNights: 0 };
  const learned = record.learned;
  if (learned === null) return { resources: configured, source: 'configured', cleanNights: record.cleanNights };
  if (!sameResources(record.configured, configured) && !coversMemory(learned, configured)) {
    return { resources: configured, source: 'configured', cleanNights: 0 };
  }
  const resources = atLeast(learned, configured);
  if (sameResources(resources, configured)) return { resources: configured, source: 'configured', cleanNights: record.cleanNights };
  return { resources, source: 'learned', cleanNights: record.cleanNights };
}

function roundUpMb(mb: number): number {
  return Math.ceil(mb / 64) * 64;
}

/** One step from `from` toward `floor`: divided by the factor, rounded up, never below `floor`. */
function stepToward(from: number, floor: number, factor: number, round: (n: number) => number): number {
  if (from <= floor) return floor;
  return Math.min(from, Math.max(floor, round(from / factor)));
}

/** One step down from `from` (which is at least `configured` everywhere) toward `configured`. */
function stepDown(from: SparkResources, configured: SparkResources, factor: number): SparkResources {
  const counts = Object.fromEntries(COUNT_KEYS.map((k) => [k, stepToward(from[k], configured[k], factor, Math.ceil)])) as Record<
    CountKey,
    number
  >;
  return {
    ...counts,
    driverMemoryMb: stepToward(from.driverMemoryMb, configured.driverMemoryMb, factor, roundUpMb),
    executorMemoryMb: stepToward(from.executorMemoryMb, configured.executorMemoryMb, factor, roundUpMb),
    memoryOverheadMb:
      from.memoryOverheadMb === null || configured.memoryOverheadMb === null
        ? configured.memoryOverheadMb
        : stepToward(from.memoryOverheadMb, configured.memoryOverheadMb, factor, roundUpMb),
  };
}

/** True when `after` asks for more memory than `before` on some memory field: an escalation. */
function memoryGrew(after: SparkResources, before: SparkResources): boolean {
  return (
    after.driverMemoryMb > before.driverMemoryMb ||
    after.executorMemoryMb > before.executorMemoryMb ||
    (after.memoryOverheadMb !== null && before.memoryOverheadMb !== null && after.memoryOverheadMb > before.memoryOverheadMb)
  );
}

/**
 * Folds one night into the record. Idempotent and ordered: a night not after the last one
 * recorded returns the record unchanged, so a retried activity or a backfilled older date
 * neither counts twice nor rolls sizing back.
 *
 * - The configured baseline changed and the learned resources no longer apply
 *   ({@link startingResources}): learned is dropped ('reset').
 * - Success after an escalation: the final resources are learned ('learned'), raised to the
 *   configured baseline on any field below it (as {@link startingResources} would).
 * - Success on the first attempt, started from the learned resources: one more clean night;
 *   at N clean nights, one step down ('stepped-down'), and learned is dropped when the step
 *   lands on the baseline.
 * - Any other night (a failure, a success after retries that did not grow, a start from other
 *   resources such as an operator override) ends the run of clean nights; learned stays.
 */
export function recordNight(record: SizingRecord | undefined, night: SizingNight, policy: SizingPolicy): RecordedNight {
  if (!isBusinessDate(night.businessDate)) {
    throw new Error(`sizing night for ${night.job}: business date ${JSON.stringify(night.businessDate)} is not YYYY-MM-DD`);
  }
  if (record !== undefined && record.job !== night.job) {
    throw new Error(`sizing record of ${record.job} cannot record a night of ${night.job}`);
  }
  if (record !== undefined && night.businessDate <= record.lastBusinessDate) return { record };

  const entry = (change: SizingChange, resources: SparkResources): SizingHistoryEntry => ({
    businessDate: night.businessDate,
    change,
    resources,
  });
  const changes: SizingHistoryEntry[] = [];
  const start = startingResources(night.configured, record);
  let learned = start.source === 'learned' ? start.resources : null;
  let cleanNights = start.cleanNights;
  if (record !== undefined && record.learned !== null && learned === null) {
    changes.push(entry('reset', night.configured));
    cleanNights = 0;
  }

  if (night.succeeded && memoryGrew(night.finalResources, night.startedFrom)) {
    // Stored as the next night will start from it, so the record reads as it behaves.
    const grown = atLeast(night.finalResources, night.configured);
    learned = sameResources(grown, night.configured) ? null : grown;
    cleanNights = 0;
    changes.push(entry('learned', grown));
  } else if (night.succeeded && night.attempts === 1 && learned !== null && sameResources(night.startedFrom, learned)) {
    cleanNights += 1;
    if (cleanNights >= policy.stepDownAfterCleanNights) {
      const stepped = stepDown(learned, night.configured, policy.stepDownFactor);
      learned = sameResources(stepped, night.configured) ? null : stepped;
      cleanNights = 0;
      changes.push(entry('stepped-down', stepped));
    }
  } else {
    cleanNights = 0;
  }

  const history = [...(record?.history ?? []), ...changes].slice(-SIZING_HISTORY_LIMIT);
  const next: SizingRecord = {
    job: night.job,
    configured: night.configured,
    learned,
    cleanNights,
    lastBusinessDate: night.businessDate,
    history,
  };
  const change = changes[changes.length - 1]?.change;
  return change === undefined ? { record: next } : { record: next, change };
}

/** Validates a policy; returns the problems (empty when fine). */
export function sizingPolicyProblems(policy: SizingPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.stepDownAfterCleanNights) || policy.stepDownAfterCleanNights < 1) {
    problems.push('stepDownAfterCleanNights must be an integer ≥ 1');
  }
  if (!(policy.stepDownFactor > 1) || !Number.isFinite(policy.stepDownFactor)) problems.push('stepDownFactor must be a finite number > 1');
  return problems;
}

const SizingHistoryEntrySchema = z.object({
  businessDate: BusinessDate,
  change: z.enum(['learned', 'stepped-down', 'reset']),
  resources: SparkResourcesSchema,
});

/** Runtime check of a record read back from storage. */
export const SizingRecordSchema = z.object({
  job: z.enum(SPARK_JOBS),
  configured: SparkResourcesSchema,
  learned: SparkResourcesSchema.nullable(),
  cleanNights: z.number().int().nonnegative(),
  lastBusinessDate: BusinessDate,
  history: z.array(SizingHistoryEntrySchema).max(SIZING_HISTORY_LIMIT),
}) satisfies z.ZodType<SizingRecord>;

/** Parses a stored record; the error names the record and the first few bad fields. */
export function parseSizingRecord(value: unknown, where = 'sizing record'): SizingRecord {
  const result = SizingRecordSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid ${where}: ${problems.join('; ')}`);
}
