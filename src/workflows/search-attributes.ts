/**
 * Custom search attributes Nightjar writes, so the Temporal UI's list can be filtered by
 * business date, job, attempt and outcome (e.g. `NightjarSparkOutcome = "OUT_OF_MEMORY"`).
 * They must be registered on the server: `temporal server start-dev --search-attribute ...`
 * (done by the project's dev server set-up) or `temporal operator search-attribute create`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SearchAttr = {
  businessDate: defineSearchAttributeKey('NightjarBusinessDate', SearchAttributeType.KEYWORD),
  tenant: defineSearchAttributeKey('NightjarTenant', SearchAttributeType.KEYWORD),
  /** RUNNING, AWAITING_FEEDS, LATE, NEEDS_ATTENTION, COMPLETED, FAILED, CANCELLED. */
  status: defineSearchAttributeKey('NightjarStatus', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('NightjarStage', SearchAttributeType.KEYWORD),
  sparkJob: defineSearchAttributeKey('NightjarSparkJob', SearchAttributeType.KEYWORD),
  sparkAttempt: defineSearchAttributeKey('NightjarSparkAttempt', SearchAttributeType.INT),
  sparkOutcome: defineSearchAttributeKey('NightjarSparkOutcome', SearchAttributeType.KEYWORD),
  oomEscalations: defineSearchAttributeKey('NightjarOomEscalations', SearchAttributeType.INT),
} as const;

/** `Name=Type` pairs for `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTE_FLAGS: readonly string[] = Object.values(SearchAttr).map(
  (key) => `${key.name}=${key.type === SearchAttributeType.INT ? 'Int' : 'Keyword'}`,
);
