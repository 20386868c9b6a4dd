import type { Logger } from 'pino';
import type { SweepInput } from '../domain/pipeline';
import type { SweepReport, WorkflowState } from '../spark/platform';
import type { SparkPlatform } from '../spark/platform';

export interface JanitorDeps {
  readonly platform: SparkPlatform;
  /** What Temporal says about a workflow id (closed, running, or never heard of). */
  readonly workflowState: (workflowId: string) => Promise<WorkflowState>;
  readonly logger: Logger;
}

export function createJanitorActivities(deps: JanitorDeps) {
  return {
    /** Deletes Nightjar-labelled objects whose workflow is closed or unknown; reports them. */
    async sweepSparkLeftovers(input: SweepInput): Promise<SweepReport> {
      const { platform } = deps;
      if (platform.sweep === undefined) {
        return { namespace: '', examined: 0, removed: [], kept: [], failed: [], dryRun: input.dryRun === true };
      }
      const report = await platform.sweep(deps.workflowState, {
        now: Date.now(),
        minAgeMs: input.minAgeSeconds * 1000,
        ...(input.dryRun !== undefined ? { dryRun: input.dryRun } : {}),
      });
      const log = report.removed.length > 0 || report.failed.length > 0 ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
      log(
        {
          namespace: report.namespace,
          examined: report.examined,
          removed: report.removed.map((o) => `${o.kind}/${o.name} (${o.reason})`),
          failed: report.failed.map((o) => `${o.kind}/${o.name}: ${o.error}`),
          dryRun: report.dryRun,
        },
        'janitor sweep',
      );
      return report;
    },
  };
}
