import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { FailureType } from '../common/failures';
import { FEEDS } from '../domain/feeds/catalog';
import type { EscalationPolicy } from '../domain/spark/escalation';
import { SparkResourcesSchema, type SparkJobName, type SparkResources } from '../domain/spark/resources';
import type { PlanRunInput, RunPlan } from '../domain/pipeline';

export interface PlanDeps {
  readonly platform: 'local' | 'kubernetes';
  readonly defaultResources: Readonly<Record<SparkJobName, SparkResources>>;
  readonly escalation: EscalationPolicy;
}

const ResourceOverride = SparkResourcesSchema.partial().strict();
const Overrides = z.object({ normalize: ResourceOverride, transform: ResourceOverride }).partial().strict();

export function createPlanActivities(deps: PlanDeps) {
  return {
    /** Decides tonight's feeds and Spark sizes from configuration plus any per-night overrides. */
    async planRun(input: PlanRunInput): Promise<RunPlan> {
      const parsed = Overrides.safeParse(input.sparkOverrides ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `sparkOverrides.${i.path.join('.')}: ${i.message}`).join('; ');
        throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `invalid run input: ${issues}`, nonRetryable: true });
      }
      const job = (name: SparkJobName) => ({
        resources: { ...deps.defaultResources[name], ...parsed.data[name] },
        policy: deps.escalation,
      });
      return {
        platform: deps.platform,
        feeds: FEEDS.map((f) => ({ feed: f.name, required: f.required })),
        jobs: { normalize: job('normalize'), transform: job('transform') },
      };
    },
  };
}
