import { condition, log, setCurrentDetails } from '@temporalio/workflow';
import type { ReportProduced } from '../../domain/pipeline';
import { exportReports } from './proxies';
import { parkOnFailure } from './park';
import type { Night } from './state';
import { recordedStep, simpleAttempt } from './step';

/** While an operator holds the export (`holdExport`), the night waits here for `releaseExport`. */
export async function exportReleased(night: Night): Promise<void> {
  const hold = night.exportHold;
  if (!hold) return;
  night.setStage('export');
  setCurrentDetails(`**${night.tenant} ${night.businessDate}**: export held by ${hold.by ?? 'an operator'}: ${hold.reason} — send \`releaseExport\` to continue`);
  log.info('waiting for the export hold to be released');
  await condition(() => night.exportHold === undefined);
}

/** Publishes the reports to the reporting store, all or nothing; the night then counts as completed. */
export async function exportTheReports(night: Night, produced: readonly ReportProduced[]): Promise<void> {
  const exported = await parkOnFailure(night, { step: 'export' }, () =>
    recordedStep(night, 'export', async () => {
      const begun = new Date();
      const result = await exportReports({ businessDate: night.businessDate, reports: produced });
      return { value: result, attempts: [simpleAttempt(begun, 1)] };
    }),
  );
  night.completed(exported?.tables ?? []);
}
