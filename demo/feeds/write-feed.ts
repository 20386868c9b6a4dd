import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { controlScale, type FeedName } from '../../src/domain/feeds/catalog';
import { formatTrailer, parseScaledDecimal } from '../../src/domain/feeds/trailer';
import { controlField, sidecarLine } from '../../src/feeds/inspect';
import { DEFECT_KINDS, type DefectKind, injectDefect } from './defects';
import { Random } from './random';
import type { FeedRenderer } from './renderer';

/** One feed file written into the landing zone (with its `.sha256` sidecar). */
export interface GeneratedFeed {
  readonly feed: FeedName;
  readonly path: string;
  /** Data lines (the trailer's record count). */
  readonly rows: number;
  readonly defects: Record<DefectKind, number>;
  readonly sha256: string;
}

// Writing: lines are joined into large chunks, hashed and written with backpressure.

export const LINES_PER_CHUNK = 8192;

export async function writeFeed(
  landingDir: string,
  renderer: FeedRenderer,
  defects: { rate: number; kinds: readonly DefectKind[] },
  seed: number,
): Promise<GeneratedFeed> {
  const { spec } = renderer;
  const filePath = path.join(landingDir, `${spec.name}.csv`);
  const counts = Object.fromEntries(DEFECT_KINDS.map((kind) => [kind, 0])) as Record<DefectKind, number>;

  const partial = `${filePath}.partial`;
  const writer = new ChunkWriter(partial);
  try {
    const sha256 = await writeLines(writer, renderer, defects, seed, counts);
    await rename(partial, filePath);
    await writeFile(`${filePath}.sha256`, sidecarLine(sha256, path.basename(filePath)));
    return { feed: spec.name, path: filePath, rows: renderer.rows, defects: counts, sha256 };
  } catch (error) {
    writer.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

/** Writes header, data lines and trailer; counts injected defects into `counts`; returns the sha256. */
export async function writeLines(
  writer: ChunkWriter,
  renderer: FeedRenderer,
  defects: { rate: number; kinds: readonly DefectKind[] },
  seed: number,
  counts: Record<DefectKind, number>,
): Promise<string> {
  const { spec, targets } = renderer;
  const scale = controlScale(spec);
  const controlIndex = spec.controlColumn === null ? -1 : spec.columns.findIndex((c) => c.name === spec.controlColumn);
  const applicable = defects.kinds.filter((kind) => {
    switch (kind) {
      case 'unknown-currency':
        return targets.currency !== undefined;
      case 'bad-date':
        return targets.date !== undefined || targets.timestamp !== undefined;
      case 'broken-quoting':
        return targets.text !== undefined;
      default:
        return true;
    }
  });
  const onFirstLine = applicable.filter((kind) => kind !== 'duplicate-id');
  const defectRandom = new Random(seed, `${spec.name}/defects`);

  writer.add(spec.columns.map((c) => c.name).join(','));
  const fields: string[] = new Array<string>(spec.columns.length).fill('');
  // The last clean line at or before each line: a duplicate repeats the id of a clean line, so
  // that the normalize job rejects it as DUPLICATE_KEY (rule 4 only compares valid rows).
  const lastClean = new Int32Array(renderer.rows);
  let sum = 0n;
  // Exact: clean values are integers far below 2^53 and the chunk is flushed into the BigInt.
  let chunkSum = 0;
  for (let i = 0; i < renderer.rows; i++) {
    const value = renderer.render(i, fields);
    const roll = defects.rate > 0 ? defectRandom.next() : 1;
    const kinds = i === 0 ? onFirstLine : applicable;
    if (roll < defects.rate && kinds.length > 0 && !renderer.isProtected(i)) {
      let kind = kinds[defectRandom.int(kinds.length)]!;
      let original = -1;
      if (kind === 'duplicate-id') {
        original = lastClean[defectRandom.int(i)]!;
        if (original < 0) kind = 'malformed-row';
      }
      lastClean[i] = i > 0 ? lastClean[i - 1]! : -1;
      const line = injectDefect(kind, fields, renderer, defectRandom, original);
      counts[kind]++;
      writer.add(line);
      const control = controlIndex < 0 ? undefined : controlField(line, controlIndex);
      const scaled = control === undefined ? null : parseScaledDecimal(control, scale);
      if (scaled !== null) sum += scaled;
    } else {
      lastClean[i] = i;
      writer.add(fields.join(','));
      chunkSum += value;
    }
    if (writer.buffered >= LINES_PER_CHUNK) {
      sum += BigInt(chunkSum);
      chunkSum = 0;
      await writer.flush();
    }
  }
  sum += BigInt(chunkSum);
  writer.add(formatTrailer(renderer.rows, sum, scale));
  return writer.close();
}

export class ChunkWriter {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private lines: string[] = [];
  private failure: Error | null = null;

  constructor(filePath: string) {
    this.stream = createWriteStream(filePath);
    this.stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  get buffered(): number {
    return this.lines.length;
  }

  add(line: string): void {
    this.lines.push(line);
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.lines.length === 0) return;
    const chunk = Buffer.from(`${this.lines.join('\n')}\n`, 'utf8');
    this.lines = [];
    this.hash.update(chunk);
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  destroy(): void {
    this.stream.destroy();
  }

  /** Flushes, closes the file and returns the sha256 of everything written. */
  async close(): Promise<string> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
    return this.hash.digest('hex');
  }
}
