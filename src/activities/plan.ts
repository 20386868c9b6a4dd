import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../common/failures';
import { addDays } from '../domain/business-date';
import { wallTimeToInstant } from '../domain/calendar';
import { FEEDS, type FeedName } from '../domain/feeds/catalog';
import type { EscalationPolicy } from '../domain/spark/escalation';
import { sparkOverridesWithin } from '../domain/bounds';
import type { SparkJobName, SparkResources } from '../domain/spark/resources';
import type { JobPlan, PlanRunInput, RunPlan } from '../domain/pipeline';
import { startingResources, type SizingRecord } from '../domain/spark/sizing';

export interface PlanDeps {
  readonly platform: 'local' | 'kubernetes';
  readonly defaultResources: Readonly<Record<SparkJobName, SparkResources>>;
  readonly escalation: EscalationPolicy;
  /** Per-job policies (a job's own caps); the default policy for jobs not listed. */
  readonly escalationByJob?: Partial<Record<SparkJobName, EscalationPolicy>>;
  /** What each job learned about its size; absent when learned sizing is off. */
  readonly learnedSizing?: (job: SparkJobName) => Promise<SizingRecord | undefined>;
  readonly feedWait: {
    /** The bank's time zone: feed cut-offs are wall-clock times there, on the day after the business date. */
    readonly timeZone: string;
    /** Hours after the last cut-off until the deadline. */
    readonly deadlineHours: number;
    readonly pollSeconds: number;
    /** Feeds the catalog requires that this deployment treats as optional. */
    readonly optionalFeeds: readonly FeedName[];
  };
}

export function createPlanActivities(deps: PlanDeps) {
  // Overrides are held to the caps escalation stops at, whichever door started the night (a start
  // from the UI or the Temporal CLI passes no trigger policy).
  const Overrides = sparkOverridesWithin({
    normalize: deps.escalationByJob?.normalize ?? deps.escalation,
    transform: deps.escalationByJob?.transform ?? deps.escalation,
  });
  return {
    /** Decides tonight's feeds and Spark sizes from configuration plus any per-night overrides. */
    async planRun(input: PlanRunInput): Promise<RunPlan> {
      const parsed = Overrides.safeParse(input.sparkOverrides ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `sparkOverrides.${i.path.join('.')}: ${i.message}`).join('; ');
        throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `invalid run input: ${issues}`, nonRetryable: true });
      }
      const job = async (name: SparkJobName): Promise<JobPlan> => {
        const configured = deps.defaultResources[name];
        const policy = deps.escalationByJob?.[name] ?? deps.escalation;
        const override = parsed.data[name];
        // An operator's override for tonight beats what the job learned.
        if (override !== undefined && Object.keys(override).length > 0) {
          return { resources: { ...configured, ...override }, configured, sizingSource: 'override', policy };
        }
        const learned = deps.learnedSizing === undefined ? undefined : await deps.learnedSizing(name);
        const start = startingResources(configured, learned);
        return { resources: start.resources, configured, sizingSource: start.source, policy };
      };
      // Extracts of business date D are due on D+1 at each feed's cut-off, local time.
      const dueDay = addDays(input.businessDate, 1);
      const cutoffs = Object.fromEntries(FEEDS.map((f) => [f.name, wallTimeToInstant(dueDay, f.arrivalCutoff, deps.feedWait.timeZone)])) as Record<FeedName, string>;
      const lastCutoff = Math.max(...Object.values(cutoffs).map((c) => Date.parse(c)));
      return {
        platform: deps.platform,
        feeds: FEEDS.map((f) => ({ feed: f.name, required: f.required && !deps.feedWait.optionalFeeds.includes(f.name) })),
        feedWait: {
          cutoffs,
          deadlineAt: new Date(lastCutoff + deps.feedWait.deadlineHours * 3_600_000).toISOString(),
          pollSeconds: deps.feedWait.pollSeconds,
        },
        jobs: { normalize: await job('normalize'), transform: await job('transform') },
        learnSizing: deps.learnedSizing !== undefined,
      };
    },
  };
}
