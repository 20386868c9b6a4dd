import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { FailureType } from '../common/failures';
import { DataLayout, toUri, uriToPath } from '../common/layout';
import { feedSpec, type FeedName } from '../domain/feeds/catalog';
import type { AwaitFeedsInput, AwaitFeedsResult, FeedIngested, IngestFeedInput } from '../domain/pipeline';
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

/** The local path of a feed's source URI; only `file://` is readable by this worker. */
function sourcePath(uri: string, feed: FeedName): string {
  if (!uri.startsWith('file://')) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `feed '${feed}' arrived at ${uri}: this worker reads file:// URIs only (put the file on the shared data volume)`,
      nonRetryable: true,
    });
  }
  return uriToPath(uri);
}

/** True when the file ends with its trailer line (a file still being written does not). */
async function looksComplete(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split(/\r?\n/).filter((l) => l.length > 0);
    return (lines[lines.length - 1] ?? '').startsWith('TRL,');
  } finally {
    await handle.close();
  }
}

export function createIngestActivities(deps: IngestDeps) {
  const { layout } = deps;
  return {
    /**
     * Looks in the landing zone until every given feed's file is there and complete (ends with its
     * trailer), or until `until`; returns what it found. Heartbeats, so the workflow can stop it
     * as soon as `feedArrived` signals bring the rest.
     */
    async awaitFeeds(input: AwaitFeedsInput): Promise<AwaitFeedsResult> {
      const ctx = Context.current();
      const until = Date.parse(input.until);
      const found = new Map<FeedName, string>();
      for (;;) {
        for (const feed of input.feeds) {
          if (found.has(feed)) continue;
          const file = layout.landingFile(input.businessDate, feed);
          if (await looksComplete(file)) found.set(feed, toUri(file));
        }
        ctx.heartbeat({ found: [...found.keys()] });
        if (found.size === input.feeds.length || Date.now() >= until) break;
        // Rejects with a CancelledFailure once the workflow stops the wait.
        await ctx.sleep(Math.max(0, Math.min(input.pollSeconds * 1000, until - Date.now())));
      }
      if (found.size > 0) deps.logger.info({ businessDate: input.businessDate, feeds: [...found.keys()] }, 'feeds found in the landing zone');
      return { found: [...found].map(([feed, uri]) => ({ feed, uri })) };
    },

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
      const landing = input.sourceUri === undefined ? layout.landingFile(businessDate, feed) : sourcePath(input.sourceUri, feed);

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

      if (input.expectedSha256 !== undefined && input.expectedSha256 !== inspected.sha256) {
        throw ApplicationFailure.create({
          type: FailureType.FeedRejected,
          message: `feed '${feed}' for ${businessDate} rejected (CHECKSUM) in ${landing}: the sender said sha256 ${input.expectedSha256}, the file has ${inspected.sha256}`,
          nonRetryable: true,
          details: [{ feed, file: landing, code: 'CHECKSUM', expected: input.expectedSha256, actual: inspected.sha256 }],
        });
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
