import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { AWAIT_FEEDS_ACTIVITY, EXPORT_ACTIVITY, FINALIZE_ACTIVITY, INGEST_ACTIVITY, PLAN_ACTIVITY, SIZING_ACTIVITY } from '../presets';

type Activities = ReturnType<typeof createActivities>;

/** The activities the night calls, each with its preset. */
export const { planRun } = proxyActivities<Activities>(PLAN_ACTIVITY);
export const { awaitFeeds } = proxyActivities<Activities>(AWAIT_FEEDS_ACTIVITY);
export const { ingestFeed } = proxyActivities<Activities>(INGEST_ACTIVITY);
export const { exportReports } = proxyActivities<Activities>(EXPORT_ACTIVITY);
export const { finalizeRun } = proxyActivities<Activities>(FINALIZE_ACTIVITY);
export const { recordSparkSizing } = proxyActivities<Activities>(SIZING_ACTIVITY);
