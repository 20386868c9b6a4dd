import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { SweepInput } from '../domain/pipeline';
import type { SweepReport } from '../spark/platform';
import { JANITOR_ACTIVITY } from './presets';

type Activities = ReturnType<typeof createActivities>;
const { sweepSparkLeftovers } = proxyActivities<Activities>(JANITOR_ACTIVITY);

/**
 * One sweep of the cluster for objects left by closed or unknown workflows. Run on a schedule
 * (`nightjar-spark-janitor`) and by `nightjar janitor`; its result lists what it removed.
 */
export async function sparkJanitor(input: SweepInput): Promise<SweepReport> {
  const report = await sweepSparkLeftovers.executeWithOptions(
    { ...JANITOR_ACTIVITY, summary: input.dryRun ? 'find leftovers (dry run)' : 'find and delete leftovers' },
    [input],
  );
  const verb = report.dryRun ? 'would remove' : 'removed';
  setCurrentDetails(
    `examined ${report.examined} object(s) in ${report.namespace || 'no cluster'}; ${verb} ${report.removed.length}` +
      (report.failed.length > 0 ? `; **${report.failed.length} could not be deleted**` : ''),
  );
  return report;
}
