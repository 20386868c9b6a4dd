import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { controlScale, type FeedSpec } from '../domain/feeds/catalog';
import { formatScaledDecimal, parseScaledDecimal, parseTrailer, TrailerFormatError, type Trailer } from '../domain/feeds/trailer';

/**
 * Structural checks of one delivered feed file, in a single streaming pass: encoding, header,
 * trailer record count and control sum, and the `.sha256` sidecar. Row content is never put
 * into an error: files carry personal data, and errors end up in logs and workflow history.
 */

export type FeedFileErrorCode =
  | 'EMPTY_FILE'
  | 'BAD_ENCODING'
  | 'HEADER_MISMATCH'
  | 'MISSING_TRAILER'
  | 'BAD_TRAILER'
  | 'COUNT_MISMATCH'
  | 'SUM_MISMATCH'
  | 'CHECKSUM_MISMATCH';

export class FeedFileError extends Error {
  override readonly name = 'FeedFileError';
  constructor(
    readonly code: FeedFileErrorCode,
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    detail?: string,
  ) {
    super(`${code} in ${file}: expected ${expected}, actual ${actual}${detail ? ` (${detail})` : ''}`);
  }
}

export interface FeedInspection {
  /** Data lines between the header and the trailer. */
  readonly rowsIn: number;
  /** The trailer's record count. */
  readonly controlCount: number;
  /** The trailer's control sum, as written. */
  readonly controlSum: string;
  /** The control sum recomputed from the data lines, with the control column's scale. */
  readonly computedSum: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly header: readonly string[];
  /** True when a `.sha256` sidecar was delivered and matched. */
  readonly sidecarVerified: boolean;
}

/** The sidecar line as `sha256sum` writes it. */
export function sidecarLine(sha256: string, fileName: string): string {
  return `${sha256}  ${fileName}\n`;
}

/**
 * The field at `index` of one CSV line, or undefined when the line has fewer fields or cannot
 * be read. Fields before the first quote of a line are plain, so they are cut at commas; only a
 * line with a quote at or before the wanted field goes through csv-parse (relaxed, one line).
 */
export function controlField(line: string, index: number): string | undefined {
  const quote = line.indexOf('"');
  let start = 0;
  for (let i = 0; i < index; i++) {
    const comma = line.indexOf(',', start);
    if (comma === -1) return quote === -1 ? undefined : parsedField(line, index);
    start = comma + 1;
  }
  const comma = line.indexOf(',', start);
  const end = comma === -1 ? line.length : comma;
  if (quote === -1 || quote >= end) return line.slice(start, end);
  return parsedField(line, index);
}

function parsedField(line: string, index: number): string | undefined {
  try {
    // The line holds no line break: a fixed record delimiter spares csv-parse its discovery.
    const records = parse(line, { relax_quotes: true, relax_column_count: true, record_delimiter: '\n' });
    return records[0]?.[index];
  } catch {
    return undefined;
  }
}

const BOM = [0xef, 0xbb, 0xbf] as const;
const CR = 13;

export async function inspectFeedFile(filePath: string, feed: FeedSpec): Promise<FeedInspection> {
  const expectedHeader = feed.columns.map((c) => c.name);
  const controlIndex = feed.controlColumn === null ? -1 : expectedHeader.indexOf(feed.controlColumn);
  const scale = controlScale(feed);
  const sidecar = readSidecar(filePath);
  // Attach a handler now: the sidecar is awaited only after the stream, and a failure must not
  // surface as an unhandled rejection meanwhile.
  sidecar.catch(() => undefined);

  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lines = new LineScanner(filePath, expectedHeader, controlIndex, scale);
  let bytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    if (bytes === 0 && BOM.every((b, i) => chunk[i] === b)) {
      throw new FeedFileError('BAD_ENCODING', filePath, 'UTF-8 without a byte order mark', 'UTF-8 with a byte order mark');
    }
    hash.update(chunk);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new FeedFileError('BAD_ENCODING', filePath, 'UTF-8', `an invalid UTF-8 sequence within bytes ${bytes}–${bytes + chunk.length}`);
    }
    bytes += chunk.length;
    lines.push(text);
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch {
    throw new FeedFileError('BAD_ENCODING', filePath, 'UTF-8', 'a truncated UTF-8 sequence at the end of the file');
  }
  lines.end(tail);

  const header = lines.header;
  if (header === null) throw new FeedFileError('EMPTY_FILE', filePath, 'a header and a trailer', `${bytes} bytes without content`);
  const sha256 = hash.digest('hex');

  const delivered = await sidecar;
  if (delivered !== null && delivered !== sha256) {
    throw new FeedFileError('CHECKSUM_MISMATCH', filePath, delivered, sha256, 'sha256 from the .sha256 sidecar vs the file');
  }

  const trailerLine = lines.lastLine;
  if (trailerLine === null) throw new FeedFileError('MISSING_TRAILER', filePath, 'a TRL record as the last line', 'only a header');
  if (lines.blanksAfterLast > 0) {
    // Spark reads the last physical line as the trailer, so nothing may follow it.
    throw new FeedFileError('BAD_TRAILER', filePath, 'the TRL record as the last line', `${lines.blanksAfterLast} blank line(s) after it`);
  }
  let trailer: Trailer;
  try {
    trailer = parseTrailer(trailerLine);
  } catch (error) {
    if (!(error instanceof TrailerFormatError)) throw error;
    if (error.problem === 'NOT_A_TRAILER') {
      throw new FeedFileError('MISSING_TRAILER', filePath, 'a TRL record as the last line', 'a line that is not a TRL record');
    }
    throw new FeedFileError('BAD_TRAILER', filePath, 'TRL,<count>,<sum>', error.message);
  }

  const { rowsIn, sum } = lines;
  if (trailer.count !== rowsIn) {
    throw new FeedFileError('COUNT_MISMATCH', filePath, `${trailer.count} data lines (trailer)`, `${rowsIn} data lines`);
  }
  const computedSum = formatScaledDecimal(sum, scale);
  const trailerSum = parseScaledDecimal(trailer.sum, scale);
  if (trailerSum === null) {
    throw new FeedFileError('BAD_TRAILER', filePath, `a control sum with at most ${scale} decimals`, trailer.sum);
  }
  if (trailerSum !== sum) {
    const column = feed.controlColumn ?? '(none)';
    throw new FeedFileError('SUM_MISMATCH', filePath, `${trailer.sum} (trailer)`, `${computedSum} (sum of ${column})`);
  }

  return {
    rowsIn,
    controlCount: trailer.count,
    controlSum: trailer.sum,
    computedSum,
    sha256,
    bytes,
    header,
    sidecarVerified: delivered !== null,
  };
}

/**
 * Cuts decoded text into lines (LF or CRLF), checks the header, and counts and sums the data
 * lines. The last non-empty line is held back until the end: it is the trailer candidate.
 */
class LineScanner {
  header: string[] | null = null;
  /** The last non-empty line seen, not yet known to be a data line. */
  lastLine: string | null = null;
  rowsIn = 0;
  sum = 0n;
  private carry = '';
  private blankFirstLine = false;
  /** Blank lines after the last non-empty one (after the trailer: not allowed). */
  blanksAfterLast = 0;

  constructor(
    private readonly file: string,
    private readonly expectedHeader: readonly string[],
    private readonly controlIndex: number,
    private readonly scale: number,
  ) {}

  push(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      this.line(text.slice(start, end));
      start = newline + 1;
    }
    this.carry = text.slice(start);
  }

  end(chunk: string): void {
    const text = this.carry + chunk;
    this.carry = '';
    if (text.length > 0) this.line(text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text);
  }

  private line(line: string): void {
    if (this.header === null) {
      this.headerLine(line);
      return;
    }
    if (line === '') {
      this.blanksAfterLast++;
      return;
    }
    if (this.lastLine !== null) {
      this.dataLine(this.lastLine);
      // Blank lines between records are records too (Spark rejects them); only the blank
      // lines after the last non-empty line are not.
      this.rowsIn += this.blanksAfterLast;
    }
    this.blanksAfterLast = 0;
    this.lastLine = line;
  }

  private headerLine(line: string): void {
    if (line === '') {
      this.blankFirstLine = true;
      return;
    }
    if (this.blankFirstLine) {
      throw new FeedFileError('HEADER_MISMATCH', this.file, this.expectedHeader.join(','), 'an empty first line');
    }
    const header = line.split(',');
    checkHeader(this.file, this.expectedHeader, header);
    this.header = header;
  }

  private dataLine(line: string): void {
    this.rowsIn++;
    if (this.controlIndex < 0) return;
    const value = controlField(line, this.controlIndex);
    if (value === undefined) return;
    const scaled = parseScaledDecimal(value, this.scale);
    if (scaled !== null) this.sum += scaled;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The digest from `<file>.sha256`, lower-cased, or null when no sidecar was delivered. */
async function readSidecar(filePath: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(`${filePath}.sha256`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const digest = (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
  if (!SHA256_HEX.test(digest)) {
    throw new FeedFileError('CHECKSUM_MISMATCH', filePath, 'a sha256 hex digest in the .sha256 sidecar', 'a malformed sidecar');
  }
  return digest;
}

/**
 * When the first line shares no name with the catalog it is most likely a data record (a file
 * without header), so none of it is shown; otherwise names that do not look like column names
 * (spaces, punctuation, long digit runs as in ids and IBANs) are masked.
 */
function checkHeader(file: string, expected: readonly string[], actual: readonly string[]): void {
  if (actual.length === expected.length && actual.every((name, i) => name === expected[i])) return;
  const known = new Set(expected);
  if (!actual.some((name) => known.has(name))) {
    throw new FeedFileError(
      'HEADER_MISMATCH',
      file,
      expected.join(','),
      `${actual.length} fields, none of them a catalog column (not shown)`,
      'the first line is not this feed\'s header',
    );
  }
  const show = safeName(known);
  throw new FeedFileError('HEADER_MISMATCH', file, expected.join(','), actual.map(show).join(','), headerDifferences(expected, actual, show));
}

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DIGIT_RUN = /[0-9]{4}/;

function safeName(known: ReadonlySet<string>): (name: string) => string {
  return (name) => (known.has(name) || (COLUMN_NAME.test(name) && !DIGIT_RUN.test(name)) ? name : '<not a column name>');
}

function headerDifferences(expected: readonly string[], actual: readonly string[], show: (name: string) => string): string {
  const expectedSet = new Set(expected);
  const actualSet = new Set(actual);
  const renamedFrom = new Set<string>();
  const renamedTo = new Set<string>();
  const renamed: string[] = [];
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e !== a && !actualSet.has(e) && !expectedSet.has(a)) {
      renamed.push(`${e} → ${show(a)}`);
      renamedFrom.add(e);
      renamedTo.add(a);
    }
  }
  const missing = expected.filter((name) => !actualSet.has(name) && !renamedFrom.has(name));
  const extra = actual.filter((name) => !expectedSet.has(name) && !renamedTo.has(name));
  const duplicated = [...new Set(actual.filter((name, i) => actual.indexOf(name) !== i))];
  const parts: string[] = [];
  if (renamed.length > 0) parts.push(`renamed: ${renamed.join(', ')}`);
  if (missing.length > 0) parts.push(`missing: ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`extra: ${extra.map(show).join(', ')}`);
  if (duplicated.length > 0) parts.push(`duplicated: ${duplicated.map(show).join(', ')}`);
  if (parts.length === 0) parts.push('same columns in a different order');
  return parts.join('; ');
}
