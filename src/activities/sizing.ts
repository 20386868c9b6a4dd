import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from 'pino';
import { FailureType } from '../common/failures';
import type { DataLayout } from '../common/layout';
import type { RecordSizingInput, SizingManifestEntry } from '../domain/pipeline';
import type { SparkJobName } from '../domain/spark/resources';
import { parseSizingRecord, recordNight, startingResources, type SizingPolicy, type SizingRecord } from '../domain/spark/sizing';

/**
 * Learned sizing, kept as one small JSON file per job under the data directory (the storage
 * every worker of a deployment shares). Writes are atomic (temp file + rename).
 */
export class SizingStore {
  constructor(private readonly layout: DataLayout) {}

  async read(job: SparkJobName): Promise<SizingRecord | undefined> {
    const file = this.layout.sizingFile(job);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const malformed = (problem: string) =>
      ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `${problem}; fix or delete it to start from the configured size`,
        nonRetryable: true,
      });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw malformed(`sizing record ${file} is not JSON (${(error as Error).message})`);
    }
    try {
      return parseSizingRecord(json, `sizing record ${file}`);
    } catch (error) {
      throw malformed((error as Error).message);
    }
  }

  async write(record: SizingRecord): Promise<void> {
    const file = this.layout.sizingFile(record.job);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
    await fs.rename(tmp, file);
  }
}

export interface SizingDeps {
  readonly store: SizingStore;
  readonly policy: SizingPolicy;
  readonly logger: Logger;
}

export function createSizingActivities(deps: SizingDeps) {
  return {
    /**
     * Records how tonight's job went and what the next night starts from. Idempotent: a retry,
     * or an older business date (a backfill), leaves the record as it is.
     */
    async recordSparkSizing(input: RecordSizingInput): Promise<SizingManifestEntry> {
      const before = await deps.store.read(input.job);
      const { record, change } = recordNight(before, input, deps.policy);
      if (record !== before) await deps.store.write(record);
      const next = startingResources(input.configured, record);
      if (change !== undefined) deps.logger.info({ job: input.job, businessDate: input.businessDate, change, next: next.resources }, 'spark sizing changed');
      return {
        job: input.job,
        source: input.source,
        startedFrom: input.startedFrom,
        finalResources: input.finalResources,
        next: next.resources,
        cleanNights: record.cleanNights,
        change: change ?? null,
      };
    },
  };
}
