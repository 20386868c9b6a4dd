import type { Logger } from 'pino';
import type { DataLayout } from '../common/layout';
import { countOutcomes } from '../observability/activity-outcomes';
import { NoMetrics, type NightjarMetrics } from '../observability/metrics';
import type { ReportingStore } from '../reporting/store';
import type { SparkPlatform } from '../spark/platform';
import { createExportActivities } from './export';
import { createFinalizeActivities } from './finalize';
import { createIngestActivities } from './ingest';
import { createJanitorActivities, type JanitorDeps } from './janitor';
import { createNightsActivities, type NightsDeps } from './nights';
import { createPlanActivities, type PlanDeps } from './plan';
import { createSizingActivities, type SizingDeps } from './sizing';
import { createSparkActivities } from './spark';

export interface ActivityDeps {
  readonly layout: DataLayout;
  readonly logger: Logger;
  readonly store: ReportingStore;
  readonly spark: {
    readonly platform: SparkPlatform;
    readonly jobsDir: string;
    readonly reportingCurrency: string;
    readonly thresholds: Parameters<typeof createSparkActivities>[0]['thresholds'];
    readonly stepsAtOnce?: number;
  };
  readonly plan: PlanDeps;
  readonly sizing: Omit<SizingDeps, 'logger'>;
  readonly workflowState: JanitorDeps['workflowState'];
  readonly nights: Omit<NightsDeps, 'logger'>;
  /** Directories, besides the data directory, that announced feed files may be read from. */
  readonly feedRoots?: readonly string[];
  /** Where results become metrics (Spark attempts, rows, nights finished); discarded when absent. */
  readonly metrics?: NightjarMetrics;
}

/** Every activity of the worker, built from its dependencies (the only place they meet). */
export function createActivities(deps: ActivityDeps) {
  const activities = {
    ...createPlanActivities(deps.plan),
    ...createIngestActivities({ layout: deps.layout, logger: deps.logger, ...(deps.feedRoots ? { feedRoots: deps.feedRoots } : {}) }),
    ...createSparkActivities({ ...deps.spark, layout: deps.layout, logger: deps.logger, workflowState: deps.workflowState }),
    ...createExportActivities({ store: deps.store, logger: deps.logger }),
    ...createFinalizeActivities({ layout: deps.layout, store: deps.store, logger: deps.logger }),
    ...createSizingActivities({ ...deps.sizing, logger: deps.logger }),
    ...createNightsActivities({ ...deps.nights, logger: deps.logger }),
    ...createJanitorActivities({ platform: deps.spark.platform, workflowState: deps.workflowState, logger: deps.logger }),
  };
  return countOutcomes(activities, deps.metrics ?? new NoMetrics());
}

export type Activities = ReturnType<typeof createActivities>;
