import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FeedName } from '../domain/feeds/catalog';
import type { FeedArrivalInput } from '../domain/triggers';
import type { AttemptRecord, FeedManifestEntry, NightStatus, SparkOverrides, StepName, StepRecord } from '../domain/pipeline';

/** Where one feed stands tonight. */
export interface FeedState {
  readonly feed: FeedName;
  readonly required: boolean;
  readonly state: 'WAITING' | 'ARRIVED' | 'INGESTED' | 'SKIPPED' | 'FAILED';
  readonly uri?: string;
  /** How it was found: a `feedArrived` signal or the landing-zone discovery. */
  readonly via?: 'signal' | 'discovery';
  readonly arrivedAt?: string;
  /** The feed's own cut-off (UTC ISO); after it the night is LATE. */
  readonly cutoffAt: string;
}

/** A step that failed for good and waits for a decision (`resolveStep`). */
export interface ParkedStep {
  readonly step: StepName;
  /** For ingest: the feed that failed. */
  readonly feed?: FeedName;
  readonly error: { readonly type: string; readonly message: string };
  readonly since: string;
  readonly actions: readonly ResolveAction[];
}

export interface PipelineStatus {
  readonly businessDate: string;
  readonly tenant: string;
  readonly status: NightStatus;
  readonly stage: StepName | 'awaiting-feeds' | 'done';
  readonly late: boolean;
  readonly feeds: readonly FeedState[];
  readonly manifestFeeds: readonly FeedManifestEntry[];
  readonly steps: readonly StepRecord[];
  readonly parked?: ParkedStep;
  readonly exportHold?: { readonly reason: string; readonly by?: string; readonly since: string };
  readonly decisions: readonly ResolveStepRequest[];
  readonly error?: { readonly step: StepName; readonly type: string; readonly message: string };
  readonly startedAt: string;
}

/** The night's state, for the CLI, the UI's query tab and other services. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** A feed file arrived (from the HTTP trigger API, the Kafka bridge, or by hand in the UI). */
export const feedArrivedSignal = defineSignal<[FeedArrivalInput]>('feedArrived');

export interface HoldRequest {
  readonly reason: string;
  readonly by?: string;
}

/** Keep the export from starting (e.g. while finance checks the numbers); the rest runs on. */
export const holdExportSignal = defineSignal<[HoldRequest]>('holdExport');
export const releaseExportSignal = defineSignal<[{ readonly by?: string }?]>('releaseExport');

export type ResolveAction = 'retry' | 'skip' | 'abort';

export interface ResolveStepRequest {
  /** The parked step (must match what `status.parked.step` says). */
  readonly step: StepName;
  /** For ingest: the feed (must match `status.parked.feed`). */
  readonly feed?: FeedName;
  readonly action: ResolveAction;
  /** For a Spark step's retry: resources for its next attempts, e.g. `{ "driverMemoryMb": 4096 }`. */
  readonly overrides?: NonNullable<SparkOverrides['normalize']>;
  readonly reason?: string;
  readonly by?: string;
}

export interface ResolveStepResult {
  readonly accepted: true;
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly action: ResolveAction;
}

/**
 * The decision for a parked step. The validator refuses what cannot apply (no parked step, the
 * wrong step or feed, an unknown action, skipping a mandatory step, bad overrides) and a refused
 * update leaves the night untouched.
 */
export const resolveStepUpdate = defineUpdate<ResolveStepResult, [ResolveStepRequest]>('resolveStep');

/** The same decision as a signal, for senders that cannot wait for an update's answer. */
export const resolveStepSignal = defineSignal<[ResolveStepRequest]>('resolveStepSignal');

export interface SparkJobStatus {
  readonly job: string;
  readonly attempts: readonly AttemptRecord[];
  readonly current?: { readonly attempt: number; readonly attemptId: string; readonly state: string };
}

export const sparkJobStatusQuery = defineQuery<SparkJobStatus>('sparkJobStatus');
