/**
 * In spark-submit mode there is no SparkApplication: the driver pod is the application. Its phase
 * and its container's end read as the operator would have written them, so one classifier
 * (`classifyApplication`) decides for both modes. Pure.
 */
import type { ApplicationStateName, Pod } from '../status';
import { DRIVER_CONTAINER } from './submit-invocation';

export interface DriverApplicationState {
  readonly state: ApplicationStateName;
  readonly errorMessage?: string;
}

export function applicationStateOf(driver: Pod): DriverApplicationState {
  switch (driver.status.phase) {
    case 'Running':
      return { state: 'RUNNING' };
    case 'Succeeded':
      return { state: 'COMPLETED' };
    case 'Failed': {
      const statuses = driver.status.containerStatuses ?? [];
      const container = statuses.find((c) => c.name === DRIVER_CONTAINER) ?? statuses[0];
      const end = container?.state?.terminated ?? container?.lastState?.terminated;
      if (end === undefined || end === null) {
        return { state: 'FAILED', errorMessage: `driver pod failed${driver.status.reason ? `: ${driver.status.reason}` : ''}${driver.status.message ? ` (${driver.status.message})` : ''}` };
      }
      // The operator's wording, which the classifier reads (exit code and reason).
      return { state: 'FAILED', errorMessage: `driver container failed with ExitCode: ${end.exitCode}, Reason: ${end.reason ?? 'Error'}` };
    }
    case 'Unknown':
      return { state: 'UNKNOWN' };
    default:
      return { state: 'SUBMITTED' };
  }
}
