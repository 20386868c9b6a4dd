import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { FailureType } from '../common/failures';
import { DataLayout, toUri, uriToPath } from '../common/layout';
import { feedSpec, type FeedName } from '../domain/feeds/catalog';
import type { AwaitFeedsInput, AwaitFeedsResult, FeedIngested, IngestFeedInput } from '../domain/pipeline';
import { FeedFileChangedError, FeedFileError, inspectFeedFile } from '../feeds/inspect';
import { withHeartbeat } from './heartbeat';
import { exists } from '../common/files';

/**
 * What `ingestFeed` returns: the shared {@link FeedIngested} plus the row screen (rules 1–3 of
 * normalize, run while the file streams through): counts and the quarantine file of rejected
 * lines (`line_no,reason,record`, as normalize writes its rejects). Optional fields, so results
 * recorded before them still read.
 */
export interface FeedIngestResult extends FeedIngested {
  readonly rowsAccepted?: number;
  readonly rowsRejected?: number;
  readonly rejectReasons?: Readonly<Record<string, number>>;
  readonly quarantineUri?: string | null;
  /** The delivered file started with a UTF-8 byte order mark, which the raw copy does not have. */
  readonly bomStripped?: boolean;
  /**
   * The sha256 of the different delivery ingested before for this date and feed, which this one
   * replaces for the steps that follow (its raw copy stays; the ingest record lists them all).
   */
  readonly supersedes?: string;
}

/** The ingest record kept in the run directory: the result, where it came from, which run took it. */
export interface IngestRecord extends FeedIngestResult {
  readonly landing: string;
  readonly ingestedAt: string;
  readonly workflowId?: string;
  readonly runId?: string;
  /** Every delivery ingested before this one for the date and feed, oldest first (the audit trail). */
  readonly superseded?: readonly { readonly sha256: string; readonly rawUri: string | null; readonly ingestedAt: string; readonly runId?: string }[];
}

async function readIngestRecord(file: string): Promise<IngestRecord | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as IngestRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Moves `tmp` to `target` read-only, unless `target` is already there (same content by name). */
async function publishReadOnly(tmp: string, target: string): Promise<void> {
  if (await exists(target)) return;
  await fs.chmod(tmp, 0o444);
  await fs.rename(tmp, target);
}

export interface IngestDeps {
  readonly layout: DataLayout;
  readonly logger: Logger;
  /**
   * Directories a feed announced by URI (a `feedArrived` signal, the HTTP API, Kafka) may be read
   * from, besides the data directory. Anything else — `../` tricks, symlinks out, other files of
   * the worker — is refused: a sender must not make the worker read what it chooses.
   */
  readonly feedRoots?: readonly string[];
}

/** Writes `content` to `target` atomically (temp file + rename). */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, target);
}

/** The local path of a feed's source URI; only `file://` is readable by this worker. */
/** Whether `file` (resolved) lies inside `root` (resolved). */
const inside = (root: string, file: string): boolean => {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * The local path of an announced feed file, refused unless it resolves (symlinks followed) inside
 * one of `roots`. A file that does not exist yet is checked by its resolved directory.
 */
async function sourcePath(uri: string, feed: FeedName, roots: readonly string[]): Promise<string> {
  if (!uri.startsWith('file://')) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `feed '${feed}' arrived at ${uri}: this worker reads file:// URIs only (put the file on the shared data volume)`,
      nonRetryable: true,
    });
  }
  const file = path.resolve(uriToPath(uri));
  const real = await fs.realpath(file).catch(async () => path.join(await fs.realpath(path.dirname(file)).catch(() => path.dirname(file)), path.basename(file)));
  const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => path.resolve(r))));
  if (!realRoots.some((root) => inside(root, real))) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidInput,
      message: `feed '${feed}' arrived at ${uri}, outside the directories feeds are read from (${roots.join(', ')}; NIGHTJAR_FEED_ROOTS adds more)`,
      nonRetryable: true,
      details: [{ feed, uri, code: 'SOURCE_OUTSIDE_FEED_ROOTS' }],
    });
  }
  return file;
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
  const feedRoots = [layout.dataDir, ...(deps.feedRoots ?? [])];
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
     * Verifies one landed feed (header, trailer count and control sum, checksum), screens its rows
     * (rules 1–3, rejected lines quarantined) and copies it immutably into the raw zone, all in one
     * read: the copy is exactly the bytes checked. The raw copy is content-addressed, so a retry or
     * a second delivery of the same bytes finds the same file (idempotent: same result, nothing
     * counted twice). A different delivery after an ingest (a correction, picked up by an
     * operator's retry or a re-run of the date) never overwrites anything: it gets its own raw copy,
     * the result names the digest it `supersedes`, and the ingest record keeps every superseded
     * delivery. A file that changes while it is read fails retryably (FeedChanging).
     */
    async ingestFeed(input: IngestFeedInput): Promise<FeedIngestResult> {
      const { businessDate, feed } = input;
      const spec = feedSpec(feed);
      const ctx = Context.current();
      const { attempt, workflowExecution } = ctx.info;
      const log = deps.logger.child({ businessDate, feed, attempt });
      const landing = input.sourceUri === undefined ? layout.landingFile(businessDate, feed) : await sourcePath(input.sourceUri, feed, feedRoots);

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

      const rawDir = path.dirname(layout.rawFile(businessDate, feed));
      await fs.mkdir(rawDir, { recursive: true });
      const unique = `${process.pid}.${randomBytes(4).toString('hex')}`;
      const rawTmp = path.join(rawDir, `${feed}.${unique}.tmp`);
      const quarantineTmp = path.join(rawDir, `${feed}.rejects.${unique}.tmp`);
      const discard = () => Promise.all([fs.rm(rawTmp, { force: true }), fs.rm(quarantineTmp, { force: true })]);

      let progress = { bytesRead: 0, size: 0 };
      let inspected;
      try {
        inspected = await withHeartbeat(
          () =>
            inspectFeedFile(landing, spec, {
              copyTo: rawTmp,
              screen: { businessDate, quarantineTo: quarantineTmp },
              onProgress: (bytesRead, size) => {
                progress = { bytesRead, size };
                ctx.heartbeat({ feed, phase: 'verify', ...progress });
              },
            }),
          () => ({ feed, phase: 'verify', ...progress }),
        );
      } catch (err) {
        await discard();
        if (err instanceof FeedFileError) {
          log.error({ code: err.code, line: err.line, expected: err.expected, actual: err.actual, detail: err.detail }, 'feed file rejected');
          const where = err.line === undefined ? '' : ` at line ${err.line}`;
          throw ApplicationFailure.create({
            type: FailureType.FeedRejected,
            message: `feed '${feed}' for ${businessDate} rejected (${err.code}) in ${err.file}${where}: expected ${err.expected}, found ${err.actual}${err.detail ? ` (${err.detail})` : ''}`,
            nonRetryable: true,
            details: [{ feed, file: err.file, code: err.code, expected: err.expected, actual: err.actual, ...(err.detail ? { detail: err.detail } : {}), ...(err.line === undefined ? {} : { line: err.line }) }],
          });
        }
        if (err instanceof FeedFileChangedError) {
          // Not the sender's final file yet (or replaced under us): nothing read is used, and a
          // later attempt reads it again once it is stable.
          log.warn({ before: err.before, after: err.after, bytesRead: err.bytesRead }, 'feed file changed while being read; will retry');
          throw ApplicationFailure.create({
            type: FailureType.FeedChanging,
            message: `feed '${feed}' for ${businessDate}: ${err.message}; nothing was ingested, retrying`,
            nonRetryable: false,
            details: [{ feed, file: err.file, before: err.before, after: err.after, bytesRead: err.bytesRead }],
          });
        }
        throw err;
      }

      if (input.expectedSha256 !== undefined && input.expectedSha256 !== inspected.sha256) {
        await discard();
        throw ApplicationFailure.create({
          type: FailureType.FeedRejected,
          message: `feed '${feed}' for ${businessDate} rejected (CHECKSUM) in ${landing}: the sender said sha256 ${input.expectedSha256}, the file has ${inspected.sha256}`,
          nonRetryable: true,
          details: [{ feed, file: landing, code: 'CHECKSUM', expected: input.expectedSha256, actual: inspected.sha256 }],
        });
      }

      const run = { workflowId: workflowExecution?.workflowId, runId: workflowExecution?.runId };
      const previous = await readIngestRecord(layout.ingestRecord(businessDate, feed));

      const key = inspected.sha256.slice(0, 16);
      const raw = path.join(rawDir, `${feed}-${key}.csv`);
      const quarantine = path.join(rawDir, `${feed}-${key}.rejects.csv`);
      const screen = inspected.screen;
      const quarantined = screen !== undefined && screen.quarantined > 0;
      // Content-addressed and read-only: a second delivery of the same bytes finds its copy.
      await publishReadOnly(rawTmp, raw);
      if (quarantined) await publishReadOnly(quarantineTmp, quarantine);
      await discard();

      const result: { -readonly [K in keyof FeedIngestResult]: FeedIngestResult[K] } = {
        feed,
        status: 'INGESTED',
        rawUri: toUri(raw),
        rowsIn: inspected.rowsIn,
        controlCount: inspected.controlCount,
        controlSum: inspected.controlSum,
        sha256: inspected.sha256,
        bytes: inspected.bytes,
        attempt,
        rowsAccepted: screen?.rowsAccepted ?? inspected.rowsIn,
        rowsRejected: screen?.rowsRejected ?? 0,
        rejectReasons: screen?.rejectReasons ?? {},
        quarantineUri: quarantined ? toUri(quarantine) : null,
        bomStripped: inspected.bomStripped,
      };
      const replaced = previous !== null && previous.sha256 !== inspected.sha256;
      if (replaced) {
        log.warn({ previous: previous.sha256, sha256: result.sha256, previousRun: previous.runId }, 'a different delivery supersedes the one ingested before');
      }
      const superseded = replaced
        ? [...(previous.superseded ?? []), { sha256: previous.sha256, rawUri: previous.rawUri, ingestedAt: previous.ingestedAt, ...(previous.runId ? { runId: previous.runId } : {}) }]
        : (previous?.superseded ?? []);
      const record: IngestRecord = {
        ...result,
        ...(replaced ? { supersedes: previous.sha256 } : {}),
        landing,
        ingestedAt: previous !== null && !replaced ? previous.ingestedAt : new Date().toISOString(),
        ...run,
        ...(superseded.length > 0 ? { superseded } : {}),
      };
      if (replaced) result.supersedes = previous.sha256;
      await writeFileAtomic(layout.ingestRecord(businessDate, feed), JSON.stringify(record, null, 2));
      log.info({ rows: result.rowsIn, rejected: result.rowsRejected, bytes: result.bytes }, 'feed ingested');
      return result;
    },
  };
}
