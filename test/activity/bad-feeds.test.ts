import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment, defaultActivityInfo } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createIngestActivities, type FeedIngestResult, type IngestRecord } from '../../src/activities/ingest';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/common/failures';
import { DataLayout, uriToPath } from '../../src/common/layout';
import { FEED_NAMES, feedSpec, type FeedName } from '../../src/domain/feeds/catalog';
import { splitQuotedLine } from '../../src/domain/feeds/schemas';

/**
 * The bad-feed corpus (test/fixtures/bad-feeds/<NN-slug>/): every case folder is copied into a
 * fresh landing zone, the ingest activity runs on it, and its outcome is checked against the
 * folder's expected.json, down to the quarantine file and the operator state it leads to.
 */

const CORPUS = path.join(__dirname, '..', 'fixtures', 'bad-feeds');
const MIN_CASES = 30;

type Outcome = 'file-rejected' | 'rows-rejected' | 'accepted' | 'retry';
type OperatorState = 'parked-for-corrected-file' | 'completed-with-rejects' | 'completed' | 'retried';

interface Expected {
  readonly description: string;
  readonly feed: FeedName;
  readonly businessDate: string;
  readonly outcome: Outcome;
  readonly failureType?: string;
  readonly rejectCode?: string;
  readonly reasonContains?: string;
  readonly line?: number;
  readonly rowsIn?: number;
  readonly rowsAccepted?: number;
  readonly rowsRejected?: number;
  readonly rejectReasons?: Record<string, number>;
  readonly rejectedLines?: Record<string, string>;
  readonly normalizeRejects?: Record<string, number>;
  readonly companionFeeds?: readonly FeedName[];
  readonly bomStripped?: boolean;
  readonly operatorState: OperatorState;
  readonly build?:
    | { readonly kind: 'long-field'; readonly column: string; readonly bytes: number }
    | { readonly kind: 'grow-during-read' }
    | { readonly kind: 'deliver-twice' }
    | { readonly kind: 'redeliver-different'; readonly second: string };
}

const caseNames = readdirSync(CORPUS)
  .filter((name) => statSync(path.join(CORPUS, name)).isDirectory())
  .sort();
const cases = caseNames.map((name) => ({ name, expected: JSON.parse(readFileSync(path.join(CORPUS, name, 'expected.json'), 'utf8')) as Expected }));

/** How the daily pipeline treats an ingest outcome (see withAttention in src/workflows/daily-pipeline.ts). */
function operatorState(outcome: { failure?: ApplicationFailure; result?: FeedIngestResult }, normalizeRejects: boolean): OperatorState {
  const { failure, result } = outcome;
  if (failure !== undefined) {
    const nonRetryable = failure.nonRetryable === true || NON_RETRYABLE_FAILURES.includes(failure.type as FailureType);
    return nonRetryable ? 'parked-for-corrected-file' : 'retried';
  }
  return (result?.rowsRejected ?? 0) > 0 || normalizeRejects ? 'completed-with-rejects' : 'completed';
}

function outcomeOf(outcome: { failure?: ApplicationFailure; result?: FeedIngestResult }): Outcome {
  if (outcome.failure !== undefined) return operatorState(outcome, false) === 'retried' ? 'retry' : 'file-rejected';
  return (outcome.result?.rowsRejected ?? 0) > 0 ? 'rows-rejected' : 'accepted';
}

const TEMPLATE_ROW = 'T2026112000000001,A0010000001,2026-11-20T08:15:00Z,2026-11-20,DEBIT,12.50,EUR,POS,5411,REWE Markt Berlin';

function header(feed: FeedName): string {
  return feedSpec(feed).columns.map((c) => c.name).join(',');
}

/** Inputs too large to commit, written into the landing zone at test time. */
async function buildInput(expected: Expected, landing: string): Promise<void> {
  const file = path.join(landing, `${expected.feed}.csv`);
  if (expected.build?.kind === 'long-field') {
    const index = feedSpec(expected.feed).columns.findIndex((c) => c.name === (expected.build as { column: string }).column);
    const fields = TEMPLATE_ROW.split(',');
    fields[index] = 'x'.repeat(expected.build.bytes);
    await fs.writeFile(file, `${header(expected.feed)}\n${fields.join(',')}\nTRL,1,12.50\n`);
  }
  if (expected.build?.kind === 'grow-during-read') {
    // More than one read chunk (1 MiB), so the ingest reports progress before it is done.
    const count = Math.ceil((3 << 20) / TEMPLATE_ROW.length);
    const rows = Array.from({ length: count }, (_, i) => TEMPLATE_ROW.replace('T2026112000000001', `T2026112${String(i).padStart(9, '0')}`));
    await fs.writeFile(file, `${header(expected.feed)}\n${rows.join('\n')}\nTRL,${count},${(count * 12.5).toFixed(2)}\n`);
  }
}

interface Harness {
  readonly dataDir: string;
  readonly layout: DataLayout;
  readonly landing: string;
  ingest(runId?: string, onHeartbeat?: (details: unknown) => void): Promise<{ failure?: ApplicationFailure; result?: FeedIngestResult }>;
}

async function harness(name: string, expected: Expected): Promise<Harness> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `nightjar-bad-feeds-${name.slice(0, 2)}-`));
  const layout = new DataLayout(dataDir);
  const landing = layout.landingDir(expected.businessDate);
  await fs.cp(path.join(CORPUS, name), landing, { recursive: true });
  await fs.rm(path.join(landing, 'expected.json'));
  await buildInput(expected, landing);
  const activities = createIngestActivities({ layout, logger: pino({ enabled: false }) });
  return {
    dataDir,
    layout,
    landing,
    async ingest(runId = 'run-1', onHeartbeat) {
      const env = new MockActivityEnvironment(
        { workflowExecution: { workflowId: `nightjar-${expected.businessDate}`, runId } },
        { logger: new DefaultLogger('ERROR') },
      );
      if (onHeartbeat) env.on('heartbeat', onHeartbeat);
      try {
        const result = (await env.run(activities.ingestFeed, { businessDate: expected.businessDate, feed: expected.feed })) as FeedIngestResult;
        return { result };
      } catch (error) {
        if (error instanceof ApplicationFailure) return { failure: error };
        throw error;
      }
    },
  };
}

async function quarantineRows(uri: string): Promise<{ lineNo: number; reason: string; record: string }[]> {
  const [first, ...rest] = (await fs.readFile(uriToPath(uri), 'utf8')).split('\n').filter((l) => l.length > 0);
  expect(first).toBe('line_no,reason,record');
  return rest.map((line) => {
    const [lineNo, reason, record] = splitQuotedLine(line) as [string, string, string];
    return { lineNo: Number(lineNo), reason, record };
  });
}

/** The data lines of a landed file by physical line number (header is line 1), without the trailer. */
async function dataLines(file: string): Promise<Map<number, string>> {
  const lines = (await fs.readFile(file, 'utf8')).replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return new Map(lines.slice(1, -1).map((line, i) => [i + 2, line]));
}

/** The value of `column` on every data line of the landed `feed` file (plain lines only). */
async function columnValues(landing: string, feed: FeedName, column: string): Promise<string[]> {
  const index = feedSpec(feed).columns.findIndex((c) => c.name === column);
  return [...(await dataLines(path.join(landing, `${feed}.csv`))).values()].map((line) => line.split(',')[index]!);
}

test(`the corpus has at least ${MIN_CASES} cases, each named NN-slug with a known feed`, () => {
  expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES);
  for (const { name, expected } of cases) {
    expect(name).toMatch(/^[0-9]{2}-[a-z0-9-]+$/);
    expect(FEED_NAMES).toContain(expected.feed);
  }
});

test('the README table lists exactly the case folders', async () => {
  const readme = await fs.readFile(path.join(CORPUS, 'README.md'), 'utf8');
  const listed = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  expect(listed).toEqual(caseNames);
});

let harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.map((h) => fs.rm(h.dataDir, { recursive: true, force: true })));
  harnesses = [];
});

test.each(cases)('$name: $expected.outcome', async ({ name, expected }) => {
  const h = await harness(name, expected);
  harnesses.push(h);
  const build = expected.build;

  let outcome: Awaited<ReturnType<Harness['ingest']>>;
  if (build?.kind === 'grow-during-read') {
    // Appends a row once the ingest reports it has read its first chunk: the file grows mid-read.
    let grown = false;
    outcome = await h.ingest('run-1', (details) => {
      const bytesRead = (details as { bytesRead?: number } | undefined)?.bytesRead ?? 0;
      if (grown || bytesRead === 0) return;
      grown = true;
      appendFileSync(path.join(h.landing, `${expected.feed}.csv`), `${TEMPLATE_ROW}\n`);
    });
    expect(grown).toBe(true);
  } else if (build?.kind === 'redeliver-different') {
    const first = await h.ingest('run-1');
    expect(first.result?.status).toBe('INGESTED');
    await fs.copyFile(path.join(h.landing, build.second), path.join(h.landing, `${expected.feed}.csv`));
    outcome = await h.ingest('run-2');
    // Not silent: the result names what it supersedes, the record keeps it, both raw copies stay.
    expect(outcome.result?.supersedes).toBe(first.result?.sha256);
    expect(outcome.result?.sha256).not.toBe(first.result?.sha256);
    const record = JSON.parse(await fs.readFile(h.layout.ingestRecord(expected.businessDate, expected.feed), 'utf8')) as IngestRecord;
    expect(record).toMatchObject({ sha256: outcome.result?.sha256, runId: 'run-2', superseded: [{ sha256: first.result?.sha256, rawUri: first.result?.rawUri, runId: 'run-1' }] });
    await expect(fs.access(uriToPath(first.result!.rawUri!))).resolves.toBeUndefined();
    await expect(fs.access(uriToPath(outcome.result!.rawUri!))).resolves.toBeUndefined();
  } else if (build?.kind === 'deliver-twice') {
    const first = await h.ingest('run-1');
    outcome = await h.ingest('run-2');
    expect(outcome.result).toEqual(first.result);
    const record = JSON.parse(await fs.readFile(h.layout.ingestRecord(expected.businessDate, expected.feed), 'utf8')) as IngestRecord;
    expect(record.rowsIn).toBe(expected.rowsIn);
    expect(record.superseded).toBeUndefined();
    const raw = await fs.readdir(path.dirname(h.layout.rawFile(expected.businessDate, expected.feed)));
    expect(raw).toEqual([path.basename(uriToPath(first.result!.rawUri!))]);
  } else {
    outcome = await h.ingest();
  }

  expect(outcomeOf(outcome)).toBe(expected.outcome);
  expect(operatorState(outcome, expected.normalizeRejects !== undefined)).toBe(expected.operatorState);

  if (outcome.failure) {
    const { failure } = outcome;
    expect(failure.type).toBe(expected.failureType);
    expect(failure.nonRetryable).toBe(expected.outcome === 'file-rejected');
    expect(failure.message).toContain(`feed '${expected.feed}'`);
    expect(failure.message).toContain(path.join(h.landing, `${expected.feed}.csv`));
    expect(failure.message).toContain(expected.reasonContains);
    if (expected.rejectCode !== undefined) {
      expect(failure.message).toContain(`(${expected.rejectCode})`);
      expect(failure.details?.[0]).toMatchObject({ feed: expected.feed, code: expected.rejectCode });
    }
    if (expected.line !== undefined) {
      expect(failure.message).toContain(`at line ${expected.line}`);
      expect(failure.details?.[0]).toMatchObject({ line: expected.line });
    }
    // Nothing of a rejected or torn file reaches the raw zone, not even a temp file.
    const rawDir = path.dirname(h.layout.rawFile(expected.businessDate, expected.feed));
    expect(await fs.readdir(rawDir).catch(() => [])).toEqual([]);
    return;
  }

  const result = outcome.result!;
  expect(result.status).toBe('INGESTED');
  expect(result.rowsIn).toBe(expected.rowsIn);
  expect(result.rowsAccepted).toBe(expected.rowsAccepted);
  expect(result.rowsRejected).toBe(expected.rowsRejected);
  expect(result.rowsAccepted! + result.rowsRejected!).toBe(result.rowsIn);
  expect(result.rowsIn).toBe(result.controlCount);
  expect(result.rejectReasons).toEqual(expected.rejectReasons);
  if (expected.bomStripped) {
    expect(result.bomStripped).toBe(true);
    const rawText = await fs.readFile(uriToPath(result.rawUri!), 'utf8');
    expect(rawText.startsWith(header(expected.feed))).toBe(true);
  }

  if (result.rowsRejected! > 0) {
    // Nothing lost: every rejected line is in the quarantine, with its line number and reason,
    // exactly as delivered.
    const quarantined = await quarantineRows(result.quarantineUri!);
    const delivered = await dataLines(path.join(h.landing, `${expected.feed}.csv`));
    expect(quarantined).toHaveLength(result.rowsRejected!);
    expect(Object.fromEntries(quarantined.map((q) => [String(q.lineNo), q.reason]))).toEqual(expected.rejectedLines);
    for (const q of quarantined) expect(q.record).toBe(delivered.get(q.lineNo));
  } else {
    expect(result.quarantineUri).toBeNull();
  }

  // Rows only normalize can reject: check the fixture really holds them.
  if (expected.normalizeRejects?.DUPLICATE_KEY !== undefined) {
    const keys = await columnValues(h.landing, expected.feed, feedSpec(expected.feed).primaryKey[0]!);
    expect(keys.length - new Set(keys).size).toBe(expected.normalizeRejects.DUPLICATE_KEY);
  }
  if (expected.normalizeRejects?.UNKNOWN_REFERENCE !== undefined) {
    const column = feedSpec(expected.feed).columns.find((c) => c.references !== undefined)!;
    const target = column.references!;
    expect(expected.companionFeeds).toContain(target.feed);
    const known = new Set(await columnValues(h.landing, target.feed, target.column));
    const unknown = (await columnValues(h.landing, expected.feed, column.name)).filter((v) => !known.has(v));
    expect(unknown).toHaveLength(expected.normalizeRejects.UNKNOWN_REFERENCE);
  }
  for (const companion of expected.companionFeeds ?? []) {
    const env = new MockActivityEnvironment(defaultActivityInfo, { logger: new DefaultLogger('ERROR') });
    const activities = createIngestActivities({ layout: h.layout, logger: pino({ enabled: false }) });
    const other = (await env.run(activities.ingestFeed, { businessDate: expected.businessDate, feed: companion })) as FeedIngestResult;
    expect(other).toMatchObject({ status: 'INGESTED', rowsRejected: 0 });
  }
});

test('a file that changes while read is ingested on the retry once it is stable', async () => {
  const { name, expected } = cases.find((c) => c.expected.build?.kind === 'grow-during-read')!;
  const h = await harness(name, expected);
  harnesses.push(h);
  let grown = false;
  const first = await h.ingest('run-1', (details) => {
    if (grown || ((details as { bytesRead?: number } | undefined)?.bytesRead ?? 0) === 0) return;
    grown = true;
    appendFileSync(path.join(h.landing, `${expected.feed}.csv`), `${TEMPLATE_ROW}\n`);
  });
  expect(first.failure?.type).toBe(FailureType.FeedChanging);
  // The appended line now stands after the trailer: the stable file is checked on its own merits.
  const file = path.join(h.landing, `${expected.feed}.csv`);
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.slice(0, text.length - TEMPLATE_ROW.length - 1));
  const retry = await h.ingest('run-1');
  expect(retry.result).toMatchObject({ status: 'INGESTED', rowsRejected: 0 });
});
