import { defineQuery } from '@temporalio/workflow';
import type { FeedManifestEntry, RunStatus, StepName, StepRecord, AttemptRecord } from '../domain/pipeline';

export interface PipelineStatus {
  readonly businessDate: string;
  readonly status: RunStatus;
  readonly stage: StepName | 'done';
  readonly feeds: readonly FeedManifestEntry[];
  readonly steps: readonly StepRecord[];
  readonly error?: { readonly step: StepName; readonly type: string; readonly message: string };
}

/** The night's state, for the CLI, the UI's query tab and other services. */
export const statusQuery = defineQuery<PipelineStatus>('status');

export interface SparkJobStatus {
  readonly job: string;
  readonly attempts: readonly AttemptRecord[];
  readonly current?: { readonly attempt: number; readonly attemptId: string; readonly state: string };
}

export const sparkJobStatusQuery = defineQuery<SparkJobStatus>('sparkJobStatus');
