import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { feedSpec } from '../src/domain/feeds/catalog';
import { generateFeeds } from '../demo/feeds/generate-feeds';
import { inspectFeedFile } from '../src/feeds/inspect';
import { round } from './stats';

export interface BenchGenerateOptions {
  /** Scratch directory for the generated landing zone (removed again at the end). */
  readonly dir: string;
  /** Transactions to generate; the other feeds get the generator's derived sizes. Default 1,000,000. */
  readonly transactions?: number;
  readonly seed?: number;
  /** Default 0.001, so that the rare defect paths are part of the measurement. */
  readonly defectRate?: number;
}

export interface BenchGenerateResult {
  readonly transactions: number;
  readonly generate: {
    readonly seconds: number;
    /** Transactions per second (the other feeds are generated in the same time). */
    readonly transactionsPerSecond: number;
    /** Data lines of all feeds per second. */
    readonly rowsPerSecond: number;
    readonly bytes: number;
  };
  /** `inspectFeedFile` on the generated transactions file. */
  readonly inspect: {
    readonly seconds: number;
    readonly linesPerSecond: number;
    readonly megabytesPerSecond: number;
    readonly bytes: number;
  };
  /** The ingest's full pass on the same file: inspection, row screen (rules 1–3), quarantine and raw copy. */
  readonly ingestPass: { readonly seconds: number; readonly linesPerSecond: number; readonly rejected: number };
  /** Highest resident set size sampled while generating and inspecting. */
  readonly peakRssMb: number;
}

const RSS_SAMPLE_MS = 25;

/** Times the feed generator at bank scale, then the structural inspection of its largest file. */
export async function benchGenerate(opts: BenchGenerateOptions): Promise<BenchGenerateResult> {
  const transactions = opts.transactions ?? 1_000_000;
  const landingDir = path.join(opts.dir, `bench-generate-${transactions}`);
  await mkdir(opts.dir, { recursive: true });
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  sampler.unref();
  try {
    const generateStart = process.hrtime.bigint();
    const generated = await generateFeeds({
      landingDir,
      businessDate: '2026-11-20',
      seed: opts.seed ?? 20261120,
      transactions,
      defectRate: opts.defectRate ?? 0.001,
    });
    const generateSeconds = secondsSince(generateStart);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const txns = generated.feeds.find((f) => f.feed === 'transactions');
    if (!txns) throw new Error('generator wrote no transactions feed');

    const inspectStart = process.hrtime.bigint();
    const inspection = await inspectFeedFile(txns.path, feedSpec('transactions'));
    const inspectSeconds = secondsSince(inspectStart);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());

    const ingestStart = process.hrtime.bigint();
    const ingestPass = await inspectFeedFile(txns.path, feedSpec('transactions'), {
      copyTo: path.join(landingDir, 'raw-copy.csv'),
      screen: { businessDate: '2026-11-20', quarantineTo: path.join(landingDir, 'rejects.csv') },
    });
    const ingestSeconds = secondsSince(ingestStart);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());

    const sizes = await Promise.all(generated.feeds.map((f) => stat(f.path)));
    const rows = generated.feeds.reduce((sum, f) => sum + f.rows, 0);
    return {
      transactions,
      generate: {
        seconds: round(generateSeconds, 2),
        transactionsPerSecond: Math.round(transactions / generateSeconds),
        rowsPerSecond: Math.round(rows / generateSeconds),
        bytes: sizes.reduce((sum, s) => sum + s.size, 0),
      },
      inspect: {
        seconds: round(inspectSeconds, 2),
        linesPerSecond: Math.round(inspection.rowsIn / inspectSeconds),
        megabytesPerSecond: round(inspection.bytes / 1_000_000 / inspectSeconds, 1),
        bytes: inspection.bytes,
      },
      ingestPass: { seconds: round(ingestSeconds, 2), linesPerSecond: Math.round(ingestPass.rowsIn / ingestSeconds), rejected: ingestPass.screen?.quarantined ?? 0 },
      peakRssMb: round(peakRss / 1024 / 1024, 0),
    };
  } finally {
    clearInterval(sampler);
    await rm(landingDir, { recursive: true, force: true });
  }
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
