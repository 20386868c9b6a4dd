import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { FailureType } from '../common/failures';
import { DataLayout, toUri } from '../common/layout';
import { feedSpec } from '../domain/feeds/catalog';
import type { FeedIngested, IngestFeedInput } from '../domain/pipeline';
import { FeedFileError, inspectFeedFile } from '../feeds/inspect';
import { withHeartbeat } from './heartbeat';

export interface IngestDeps {
  readonly layout: DataLayout;
  readonly logger: Logger;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Writes `content` to `target` atomically (temp file + rename). */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, target);
}

export function createIngestActivities(deps: IngestDeps) {
  const { layout } = deps;
  return {
    /**
     * Verifies one landed feed (header, trailer count and control sum, checksum) and copies it
     * immutably into the raw zone. The raw copy is content-addressed, so a retry or a second
     * run finds the same file and a corrected re-delivery never overwrites what was used before.
     */
    async ingestFeed(input: IngestFeedInput): Promise<FeedIngested> {
      const { businessDate, feed } = input;
      const spec = feedSpec(feed);
      const attempt = Context.current().info.attempt;
      const log = deps.logger.child({ businessDate, feed, attempt });
      const landing = layout.landingFile(businessDate, feed);

      if (!(await exists(landing))) {
        if (!spec.required) {
          log.warn('optional feed not delivered; continuing without it');
          return { feed, status: 'MISSING_OPTIONAL', rawUri: null, rowsIn: 0, controlCount: 0, controlSum: '0', sha256: '', bytes: 0, attempt };
        }
        throw ApplicationFailure.create({
          type: FailureType.FeedNotFound,
          message: `required feed '${feed}' for ${businessDate} has not arrived: expected ${landing} (owner: ${spec.owner}, cut-off ${spec.arrivalCutoff})`,
        });
      }

      let inspected;
      try {
        inspected = await withHeartbeat(() => inspectFeedFile(landing, spec), () => ({ feed, phase: 'verify' }));
      } catch (err) {
        if (err instanceof FeedFileError) {
          log.error({ code: err.code, expected: err.expected, actual: err.actual }, 'feed file rejected');
          throw ApplicationFailure.create({
            type: FailureType.FeedRejected,
            message: `feed '${feed}' for ${businessDate} rejected (${err.code}) in ${err.file}: expected ${err.expected}, found ${err.actual}`,
            nonRetryable: true,
            details: [{ feed, file: err.file, code: err.code, expected: err.expected, actual: err.actual }],
          });
        }
        throw err;
      }

      const base = layout.rawFile(businessDate, feed);
      const raw = path.join(path.dirname(base), `${feed}-${inspected.sha256.slice(0, 16)}.csv`);
      if (!(await exists(raw))) {
        await fs.mkdir(path.dirname(raw), { recursive: true });
        const tmp = `${raw}.${process.pid}.tmp`;
        await fs.copyFile(landing, tmp, fsConstants.COPYFILE_FICLONE);
        await fs.chmod(tmp, 0o444);
        await fs.rename(tmp, raw);
      }

      const result: FeedIngested = {
        feed,
        status: 'INGESTED',
        rawUri: toUri(raw),
        rowsIn: inspected.rowsIn,
        controlCount: inspected.controlCount,
        controlSum: inspected.controlSum,
        sha256: inspected.sha256,
        bytes: inspected.bytes,
        attempt,
      };
      await writeFileAtomic(layout.ingestRecord(businessDate, feed), JSON.stringify({ ...result, landing, ingestedAt: new Date().toISOString() }, null, 2));
      log.info({ rows: result.rowsIn, bytes: result.bytes }, 'feed ingested');
      return result;
    },
  };
}
