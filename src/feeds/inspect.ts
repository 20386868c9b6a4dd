import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { controlScale, type FeedSpec } from '../domain/feeds/catalog';
import { QUARANTINE_HEADER, quarantineLine, RowScreen, type RowScreenSummary } from '../domain/feeds/screen';
import { formatScaledDecimal, parseScaledDecimal, parseTrailer, TrailerFormatError, type Trailer } from '../domain/feeds/trailer';

/**
 * Structural checks of one delivered feed file, in a single streaming pass: encoding, header,
 * trailer record count and control sum, and the `.sha256` sidecar; optionally the row screen
 * (rules 1–3, rejected lines to a quarantine file) and a copy of exactly the bytes checked.
 * Row content is never put into an error: files carry personal data, and errors end up in logs
 * and workflow history (line numbers and column names are fine).
 *
 * Decisions on the extract contract, as this module applies them:
 * - a UTF-8 byte order mark at the start is accepted and stripped (not part of the copy);
 * - LF, CRLF and a mix of both end lines; a lone CR does not;
 * - any byte sequence that is not UTF-8 rejects the file (BAD_ENCODING, with its line);
 * - a line longer than MAX_LINE_LENGTH rejects the file (RECORD_TOO_LONG) without reading on;
 * - a quoted field holding a line break is two physical lines, each with an odd number of
 *   quotes: both are data lines (the trailer must count both) rejected as MALFORMED_RECORD:quoting;
 * - when every row of a feed with a business-date column is on another date, the file is for
 *   another night (WRONG_BUSINESS_DATE) and rejected as a whole.
 */

export type FeedFileErrorCode =
  | 'EMPTY_FILE'
  | 'BAD_ENCODING'
  | 'HEADER_MISMATCH'
  | 'MISSING_TRAILER'
  | 'BAD_TRAILER'
  | 'COUNT_MISMATCH'
  | 'SUM_MISMATCH'
  | 'CHECKSUM_MISMATCH'
  | 'RECORD_TOO_LONG'
  | 'WRONG_BUSINESS_DATE';

export class FeedFileError extends Error {
  override readonly name = 'FeedFileError';
  constructor(
    readonly code: FeedFileErrorCode,
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    /** What exactly differs, when expected and actual alone do not say it (e.g. which columns). */
    readonly detail?: string,
    /** The 1-based physical line where the problem is, when it is on one line. */
    readonly line?: number,
  ) {
    super(`${code} in ${file}${line === undefined ? '' : ` at line ${line}`}: expected ${expected}, actual ${actual}${detail ? ` (${detail})` : ''}`);
  }
}

/** Size, modification time and inode of a file: what changes when someone writes to it. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * The file changed while it was read (still being written, appended to, or replaced). Nothing
 * read from it may be used; reading it again later may succeed, so this is not a rejection.
 */
export class FeedFileChangedError extends Error {
  override readonly name = 'FeedFileChangedError';
  constructor(
    readonly file: string,
    readonly before: FileIdentity,
    readonly after: FileIdentity,
    readonly bytesRead: number,
  ) {
    super(
      `${file} changed while it was read: size ${before.size} → ${after.size} bytes, mtime ${new Date(before.mtimeMs).toISOString()} → ` +
        `${new Date(after.mtimeMs).toISOString()}, inode ${before.ino === after.ino ? 'unchanged' : 'replaced'}, ${bytesRead} bytes read`,
    );
  }
}

/**
 * The longest physical line the ingest holds in memory. The widest legal record of the catalog is
 * a few KiB; a longer line is a broken export (lost line breaks, binary data), and refusing it here
 * keeps the worker's memory bounded whatever the file holds.
 */
export const MAX_LINE_LENGTH = 1 << 20;

export interface InspectOptions {
  /**
   * Writes the checked bytes to this path while reading (without a leading byte order mark): the
   * copy is exactly what was hashed and parsed, never a second read of a file that may change.
   */
  readonly copyTo?: string;
  /** Screens every data line with rules 1–3 and writes the rejected lines to `quarantineTo`. */
  readonly screen?: { readonly businessDate: string; readonly quarantineTo: string };
  /** Called after every chunk read (for heartbeats). */
  readonly onProgress?: (bytesRead: number, size: number) => void;
  readonly maxLineLength?: number;
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
  /** True when the file started with a UTF-8 byte order mark, which is not part of the copy. */
  readonly bomStripped: boolean;
  /** The row screen's counts, when asked for; `quarantined` lines are in `quarantineTo`. */
  readonly screen?: RowScreenSummary & { readonly quarantined: number };
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

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CR = 13;
const LF = 10;

function identity(stats: { size: number; mtimeMs: number; ino: number }): FileIdentity {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/**
 * A new file to write (`wx`: never one that exists), open before it is used: a target that cannot
 * be created (it exists, its directory is not writable) rejects here, rather than as a stream
 * `error` event nobody listens for (an uncaught exception) while the read waits for a `drain`
 * that never comes.
 */
async function createOutput(target: string): Promise<WriteStream> {
  const stream = createWriteStream(target, { flags: 'wx' });
  await once(stream, 'open');
  // Its later errors (a full disk) reach the caller through the write callbacks and `finished`.
  stream.on('error', () => undefined);
  return stream;
}

/**
 * Resolves once `data` is handed to the file (so a fast reader never piles up memory); rejects
 * with the stream's error.
 */
function writeAll(stream: WriteStream, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

async function closeStream(stream: WriteStream | null): Promise<void> {
  if (stream === null) return;
  stream.end();
  await finished(stream);
}

/**
 * Reads the file once: hashes the bytes as delivered, decodes them as UTF-8, checks header and
 * trailer, optionally screens the rows and copies the bytes. The file's size, mtime and inode are
 * compared before and after the read; any change throws {@link FeedFileChangedError}.
 * Memory is bounded by the chunk size plus {@link MAX_LINE_LENGTH}, whatever the file size.
 */
export async function inspectFeedFile(filePath: string, feed: FeedSpec, options: InspectOptions = {}): Promise<FeedInspection> {
  const expectedHeader = feed.columns.map((c) => c.name);
  const controlIndex = feed.controlColumn === null ? -1 : expectedHeader.indexOf(feed.controlColumn);
  const scale = controlScale(feed);
  const sidecar = readSidecar(filePath);
  // Attach a handler now: the sidecar is awaited only after the stream, and a failure must not
  // surface as an unhandled rejection meanwhile.
  sidecar.catch(() => undefined);

  const screen = options.screen ? new RowScreen(feed, options.screen.businessDate) : null;
  const hash = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lines = new LineScanner(filePath, expectedHeader, controlIndex, scale, screen, options.maxLineLength ?? MAX_LINE_LENGTH);
  const handle = await open(filePath, 'r');
  let copy: WriteStream | null = null;
  let quarantine: WriteStream | null = null;
  /** Writes the screen's pending rejects (the quarantine file exists only when there are some). */
  const flushRejects = async (): Promise<void> => {
    if (lines.rejects.length === 0 || !options.screen) return;
    if (quarantine === null) {
      quarantine = await createOutput(options.screen.quarantineTo);
      await writeAll(quarantine, `${QUARANTINE_HEADER}\n`);
    }
    await writeAll(quarantine, lines.rejects.join(''));
    lines.rejects.length = 0;
  };
  let bytes = 0;
  let bomStripped = false;
  try {
    const before = identity(await handle.stat());
    copy = options.copyTo === undefined ? null : await createOutput(options.copyTo);
    for await (const read of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false, start: 0 }) as AsyncIterable<Buffer>) {
      hash.update(read);
      let chunk = read;
      if (bytes === 0 && chunk.subarray(0, 3).equals(BOM)) {
        // Accepted and stripped: a BOM is what several spreadsheet and Windows exports write, and
        // it carries no data. The digest still covers it (it is what the sender hashed).
        chunk = chunk.subarray(3);
        bomStripped = true;
      }
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const offset = firstInvalidUtf8(chunk, bytes > 0);
        throw new FeedFileError(
          'BAD_ENCODING',
          filePath,
          'UTF-8',
          `a byte that is not UTF-8 at byte offset ${bytes + (read.length - chunk.length) + offset}`,
          'e.g. Latin-1 or Windows-1252 text; the extract must be UTF-8',
          lines.lineNumberAt(chunk, offset),
        );
      }
      bytes += read.length;
      lines.push(text);
      if (copy !== null && chunk.length > 0) await writeAll(copy, chunk);
      await flushRejects();
      options.onProgress?.(bytes, before.size);
    }
    // The open handle sees writes in place (append, truncate); the path sees a replacement.
    const afterOpen = identity(await handle.stat());
    const after = sameIdentity(before, afterOpen) ? identity(await stat(filePath)) : afterOpen;
    if (!sameIdentity(before, after) || bytes !== before.size) throw new FeedFileChangedError(filePath, before, after, bytes);

    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      throw new FeedFileError('BAD_ENCODING', filePath, 'UTF-8', 'a truncated UTF-8 sequence at the end of the file', undefined, lines.lineNumber + 1);
    }
    lines.end(tail);
    const inspection = finish(filePath, feed, scale, bytes, bomStripped, hash.digest('hex'), await sidecar, lines, screen);
    await flushRejects();
    return inspection;
  } finally {
    await handle.close();
    await Promise.all([closeStream(copy), closeStream(quarantine)]);
  }
}

/** The checks that need the whole file: header present, sidecar, trailer, counts and sums, dates. */
function finish(
  filePath: string,
  feed: FeedSpec,
  scale: number,
  bytes: number,
  bomStripped: boolean,
  sha256: string,
  delivered: string | null,
  lines: LineScanner,
  screen: RowScreen | null,
): FeedInspection {
  const header = lines.header;
  if (header === null) throw new FeedFileError('EMPTY_FILE', filePath, 'a header and a trailer', `${bytes} bytes without content`);

  if (delivered !== null && delivered !== sha256) {
    throw new FeedFileError('CHECKSUM_MISMATCH', filePath, delivered, sha256, 'sha256 from the .sha256 sidecar vs the file');
  }

  const trailerLine = lines.lastLine;
  if (trailerLine === null) {
    throw new FeedFileError('MISSING_TRAILER', filePath, 'a TRL record as the last line', 'only a header', undefined, lines.lineNumber + 1);
  }
  if (lines.blanksAfterLast > 0) {
    // Spark reads the last physical line as the trailer, so nothing may follow it.
    throw new FeedFileError('BAD_TRAILER', filePath, 'the TRL record as the last line', `${lines.blanksAfterLast} blank line(s) after it`, undefined, lines.lastLineNo);
  }
  let trailer: Trailer;
  try {
    trailer = parseTrailer(trailerLine);
  } catch (error) {
    if (!(error instanceof TrailerFormatError)) throw error;
    if (error.problem === 'NOT_A_TRAILER') {
      throw new FeedFileError('MISSING_TRAILER', filePath, 'a TRL record as the last line', 'a line that is not a TRL record', undefined, lines.lastLineNo);
    }
    throw new FeedFileError('BAD_TRAILER', filePath, 'TRL,<count>,<sum>', error.message, undefined, lines.lastLineNo);
  }

  const { rowsIn, sum } = lines;
  if (trailer.count !== rowsIn) {
    throw new FeedFileError('COUNT_MISMATCH', filePath, `${trailer.count} data lines (trailer)`, `${rowsIn} data lines`, undefined, lines.lastLineNo);
  }
  const computedSum = formatScaledDecimal(sum, scale);
  const trailerSum = parseScaledDecimal(trailer.sum, scale);
  if (trailerSum === null) {
    throw new FeedFileError('BAD_TRAILER', filePath, `a control sum with at most ${scale} decimals`, trailer.sum, undefined, lines.lastLineNo);
  }
  if (trailerSum !== sum) {
    const column = feed.controlColumn ?? '(none)';
    throw new FeedFileError('SUM_MISMATCH', filePath, `${trailer.sum} (trailer)`, `${computedSum} (sum of ${column})`, undefined, lines.lastLineNo);
  }
  if (screen?.wrongBusinessDate()) {
    throw new FeedFileError(
      'WRONG_BUSINESS_DATE',
      filePath,
      `rows with ${screen.dateColumn} on the business date`,
      `none: ${screen.rowsOffDate} of ${rowsIn} rows are on another date`,
      'the file belongs to another business date',
    );
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
    bomStripped,
    ...(screen === null ? {} : { screen: { ...screen.summary(), quarantined: lines.quarantined } }),
  };
}

/**
 * Offset of the first byte of `chunk` that cannot start or continue a UTF-8 sequence. Leading
 * continuation bytes are skipped when the chunk continues a sequence begun in the previous one.
 */
export function firstInvalidUtf8(chunk: Buffer, continues: boolean): number {
  let i = 0;
  if (continues) while (i < 3 && i < chunk.length && (chunk[i]! & 0xc0) === 0x80) i++;
  while (i < chunk.length) {
    const b = chunk[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      if (i + k >= chunk.length) return chunk.length;
      if ((chunk[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return chunk.length;
}

/**
 * Cuts decoded text into lines (LF or CRLF), checks the header, and counts and sums the data
 * lines. The last non-empty line is held back until the end: it is the trailer candidate.
 * Line numbers are physical and 1-based (the header is line 1), as normalize numbers them.
 */
class LineScanner {
  header: string[] | null = null;
  /** The last non-empty line seen, not yet known to be a data line. */
  lastLine: string | null = null;
  lastLineNo = 0;
  rowsIn = 0;
  sum = 0n;
  /** Complete physical lines seen so far. */
  lineNumber = 0;
  /** Quarantine lines not yet written. */
  readonly rejects: string[] = [];
  quarantined = 0;
  private carry = '';
  private blankFirstLine = false;
  /** Blank lines after the last non-empty one (after the trailer: not allowed). */
  blanksAfterLast = 0;

  constructor(
    private readonly file: string,
    private readonly expectedHeader: readonly string[],
    private readonly controlIndex: number,
    private readonly scale: number,
    private readonly screen: RowScreen | null,
    private readonly maxLineLength: number,
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
    if (this.carry.length > this.maxLineLength) this.tooLong(this.carry.length);
  }

  end(chunk: string): void {
    const text = this.carry + chunk;
    this.carry = '';
    if (text.length > 0) this.line(text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text);
  }

  /** The physical line number of byte `offset` of `chunk`, the next chunk after what was pushed. */
  lineNumberAt(chunk: Buffer, offset: number): number {
    let line = this.lineNumber + 1;
    for (let i = chunk.indexOf(LF); i !== -1 && i < offset; i = chunk.indexOf(LF, i + 1)) line++;
    return line;
  }

  private tooLong(length: number): never {
    throw new FeedFileError(
      'RECORD_TOO_LONG',
      this.file,
      `lines of at most ${this.maxLineLength} characters`,
      `a line of ${length > this.maxLineLength ? 'more than ' + this.maxLineLength : length} characters`,
      'not read further: a line break is missing or the field holds binary data',
      this.lineNumber + 1,
    );
  }

  private line(line: string): void {
    if (line.length > this.maxLineLength) this.tooLong(line.length);
    this.lineNumber++;
    if (this.header === null) {
      this.headerLine(line);
      return;
    }
    if (line === '') {
      this.blanksAfterLast++;
      return;
    }
    if (this.lastLine !== null) {
      this.dataLine(this.lastLine, this.lastLineNo);
      // Blank lines between records are records too (Spark rejects them); only the blank
      // lines after the last non-empty line are not.
      for (let i = 1; i <= this.blanksAfterLast; i++) this.dataLine('', this.lastLineNo + i);
    }
    this.blanksAfterLast = 0;
    this.lastLine = line;
    this.lastLineNo = this.lineNumber;
  }

  private headerLine(line: string): void {
    if (line === '') {
      this.blankFirstLine = true;
      return;
    }
    if (this.blankFirstLine) {
      throw new FeedFileError('HEADER_MISMATCH', this.file, this.expectedHeader.join(','), 'an empty first line', undefined, 1);
    }
    const header = line.split(',');
    checkHeader(this.file, this.expectedHeader, header);
    this.header = header;
  }

  private dataLine(line: string, lineNo: number): void {
    this.rowsIn++;
    if (this.screen !== null) {
      const reason = this.screen.check(line);
      if (reason !== null) {
        this.rejects.push(quarantineLine(lineNo, reason, line));
        this.quarantined++;
      }
    }
    if (this.controlIndex < 0 || line === '') return;
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
      1,
    );
  }
  const show = safeName(known);
  throw new FeedFileError('HEADER_MISMATCH', file, expected.join(','), actual.map(show).join(','), headerDifferences(expected, actual, show), 1);
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
