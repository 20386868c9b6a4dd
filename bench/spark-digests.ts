/**
 * What a night's Spark jobs produced, reduced to digests that must not change when the jobs get
 * faster: per feed the counts, reject reasons and reconciled amounts with a SHA-256 of its
 * rejects file (line numbers, reasons, raw records, in order), per report its row count with a
 * SHA-256 of its CSV. `bench/spark-digests.json` holds the digests recorded for each bench
 * night (size, seed, defect rate); the bench fails when a run produces anything else.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SparkJobOutput } from '../src/domain/pipeline';

export type SparkDigests = Record<string, string>;

// The bench runs from the repository root (as it finds bench/spark-jobs).
const RECORDED = path.join(process.cwd(), 'bench', 'spark-digests.json');

/** The data lines of a CSV dataset (a directory of part files), in part order, header lines left out. */
async function csvDataLines(uri: string): Promise<string[]> {
  const dir = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  const parts = (await fs.readdir(dir)).filter((f) => f.startsWith('part-')).sort();
  const lines: string[] = [];
  for (const part of parts) {
    const text = await fs.readFile(path.join(dir, part), 'utf8');
    // Every part file starts with the header; an empty dataset may have none or a header only.
    // A loop, not push(...): a 5 M-row night's part holds more lines than a call's arguments may.
    for (const line of text.split('\n').slice(1)) if (line !== '') lines.push(line);
  }
  return lines;
}

/** SHA-256 of the lines joined by LF, hashed line by line (no one string of the whole file). */
function sha256(lines: readonly string[]): string {
  const hash = createHash('sha256');
  lines.forEach((line, i) => hash.update(i === 0 ? line : `\n${line}`));
  return hash.digest('hex').slice(0, 16);
}

/** One digest line per feed (normalize) or report (transform). */
export async function digestOutput(output: SparkJobOutput): Promise<SparkDigests> {
  const digests: SparkDigests = {};
  if (output.job === 'normalize') {
    for (const f of output.feeds) {
      const reasons = Object.entries(f.rejectReasons)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const rejects = await csvDataLines(f.rejectsUri);
      digests[`normalize ${f.feed}`] =
        `in ${f.rowsIn} accepted ${f.rowsAccepted} rejected ${f.rowsRejected} [${reasons}] money ${f.amountAccepted ?? '-'}/${f.amountRejected ?? '-'} rejects ${sha256(rejects)}`;
    }
  } else {
    for (const r of output.reports) digests[`transform ${r.report}`] = `rows ${r.rows} csv ${sha256(await csvDataLines(r.uri))}`;
  }
  return digests;
}

/**
 * Compares `digests` with those recorded for `night`; records them when the night has none yet.
 * Returns the names of what differs (empty: unchanged, or newly recorded).
 */
export async function checkDigests(night: string, digests: SparkDigests): Promise<{ recorded: boolean; differing: string[] }> {
  const all = JSON.parse(await fs.readFile(RECORDED, 'utf8').catch(() => '{}')) as Record<string, SparkDigests>;
  const expected = all[night];
  if (!expected) {
    all[night] = digests;
    await fs.writeFile(RECORDED, `${JSON.stringify(all, null, 2)}\n`);
    return { recorded: true, differing: [] };
  }
  const names = new Set([...Object.keys(expected), ...Object.keys(digests)]);
  return { recorded: false, differing: [...names].filter((n) => expected[n] !== digests[n]).sort() };
}
