import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { feedSpec } from '../../../src/domain/feeds/catalog';
import {
  controlField,
  FeedFileChangedError,
  FeedFileError,
  firstInvalidUtf8,
  inspectFeedFile,
  MAX_LINE_LENGTH,
  sidecarLine,
  type FeedFileErrorCode,
} from '../../../src/feeds/inspect';

const transactions = feedSpec('transactions');
const customers = feedSpec('customers');
const HEADER = transactions.columns.map((c) => c.name).join(',');
const ROWS = [
  'T2026112000000001,A0010000001,2026-11-20T08:15:00Z,2026-11-20,DEBIT,12.50,EUR,POS,5411,REWE Markt Berlin',
  'T2026112000000002,A0010000002,2026-11-20T09:00:00Z,2026-11-20,CREDIT,1000.00,EUR,BRANCH,,Cash deposit',
  'T2026112000000003,A0010000001,2026-11-20T10:30:00Z,2026-11-20,DEBIT,-0.05,EUR,ONLINE,5815,Refund',
];
const TRAILER = 'TRL,3,1012.45';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-inspect-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function feedFile(content: string | Buffer, options: { sidecar?: string } = {}): Promise<string> {
  const file = path.join(dir, 'transactions.csv');
  await writeFile(file, content);
  if (options.sidecar !== undefined) await writeFile(`${file}.sha256`, options.sidecar);
  return file;
}

function lines(...all: string[]): string {
  return `${all.join('\n')}\n`;
}

async function failure(file: string, feed = transactions): Promise<FeedFileError> {
  const error: unknown = await inspectFeedFile(file, feed).then(
    () => new Error('inspectFeedFile succeeded'),
    (e: unknown) => e,
  );
  if (!(error instanceof FeedFileError)) throw error;
  return error;
}

async function codeOf(file: string, feed = transactions): Promise<FeedFileErrorCode> {
  return (await failure(file, feed)).code;
}

describe('inspectFeedFile', () => {
  it('accepts a well-formed file and reports counts, sums, digest and header', async () => {
    const content = lines(HEADER, ...ROWS, TRAILER);
    const file = await feedFile(content);
    await expect(inspectFeedFile(file, transactions)).resolves.toEqual({
      rowsIn: 3,
      controlCount: 3,
      controlSum: '1012.45',
      computedSum: '1012.45',
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: Buffer.byteLength(content),
      header: transactions.columns.map((c) => c.name),
      sidecarVerified: false,
      bomStripped: false,
    });
  });

  it('accepts a UTF-8 byte order mark, strips it from the copy and keeps it in the digest', async () => {
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines(HEADER, ...ROWS, TRAILER))]);
    const copy = path.join(dir, 'copy.csv');
    const inspection = await inspectFeedFile(await feedFile(content), transactions, { copyTo: copy });
    expect(inspection).toMatchObject({ rowsIn: 3, bomStripped: true, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
    expect(await readFile(copy, 'utf8')).toBe(lines(HEADER, ...ROWS, TRAILER));
  });

  it('copies exactly the bytes it checked', async () => {
    const content = lines(HEADER, ...ROWS, TRAILER);
    const copy = path.join(dir, 'copy.csv');
    await inspectFeedFile(await feedFile(content), transactions, { copyTo: copy });
    expect(await readFile(copy, 'utf8')).toBe(content);
  });

  it('fails, without touching it, when the copy or the quarantine file it is to create already exists', async () => {
    // Before: the open failed as an unheeded stream error and the read waited for a drain forever.
    const content = lines(HEADER, ...ROWS, TRAILER);
    const copy = path.join(dir, 'existing-copy.csv');
    await writeFile(copy, 'kept');
    await expect(inspectFeedFile(await feedFile(content), transactions, { copyTo: copy })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(copy, 'utf8')).toBe('kept');
    const quarantine = path.join(dir, 'existing-rejects.csv');
    await writeFile(quarantine, 'kept');
    // ROWS[2] is rejected (a negative amount), so the quarantine file is opened.
    const screen = { businessDate: '2026-11-20', quarantineTo: quarantine };
    await expect(inspectFeedFile(await feedFile(content), transactions, { screen })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(quarantine, 'utf8')).toBe('kept');
  }, 10_000);

  it('screens rows with rules 1–3 and quarantines each rejected line with its line number and reason', async () => {
    const bad = [ROWS[0]!.replace(',EUR,', ',XXX,'), ROWS[1]!.replace('Cash deposit', '"Cash'), ''];
    const quarantine = path.join(dir, 'rejects.csv');
    const content = lines(HEADER, bad[0]!, ROWS[0]!, bad[1]!, bad[2]!, ROWS[1]!, 'TRL,5,2025.00');
    const inspection = await inspectFeedFile(await feedFile(content), transactions, { screen: { businessDate: '2026-11-20', quarantineTo: quarantine } });
    expect(inspection.screen).toEqual({
      rowsAccepted: 2,
      rowsRejected: 3,
      rejectReasons: { UNKNOWN_CURRENCY: 1, MALFORMED_RECORD: 2 },
      quarantined: 3,
    });
    expect(await readFile(quarantine, 'utf8')).toBe(
      'line_no,reason,record\n' +
        `2,UNKNOWN_CURRENCY:currency,"${bad[0]}"\n` +
        `4,MALFORMED_RECORD:quoting,"${bad[1]!.replace(/"/g, '""')}"\n` +
        '5,MALFORMED_RECORD:field_count,""\n',
    );
  });

  it('writes no quarantine file when every row is accepted', async () => {
    const quarantine = path.join(dir, 'rejects.csv');
    const inspection = await inspectFeedFile(await feedFile(lines(HEADER, ...ROWS, TRAILER)), transactions, { screen: { businessDate: '2026-11-20', quarantineTo: quarantine } });
    expect(inspection.screen).toMatchObject({ rowsAccepted: 2, rowsRejected: 1 });
    // ROWS[2] is a negative amount: transactions.amount has min 0.
    expect(await readFile(quarantine, 'utf8')).toMatch(/^line_no,reason,record\n4,OUT_OF_RANGE:amount,/);
    const clean = path.join(dir, 'clean-rejects.csv');
    await inspectFeedFile(await feedFile(lines(HEADER, ROWS[0]!, ROWS[1]!, 'TRL,2,1012.50')), transactions, { screen: { businessDate: '2026-11-20', quarantineTo: clean } });
    await expect(stat(clean)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a file whose rows are all on another business date, and only rejects the rows when some are on it', async () => {
    const screen = { businessDate: '2026-11-21', quarantineTo: path.join(dir, 'r1.csv') };
    const error: unknown = await inspectFeedFile(await feedFile(lines(HEADER, ROWS[0]!, ROWS[1]!, 'TRL,2,1012.50')), transactions, { screen }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WRONG_BUSINESS_DATE', expected: 'rows with booked_at on the business date' });
    const mixed = lines(HEADER, ROWS[0]!, ROWS[1]!.replace(/2026-11-20/g, '2026-11-21'), 'TRL,2,1012.50');
    const inspection = await inspectFeedFile(await feedFile(mixed), transactions, { screen: { ...screen, quarantineTo: path.join(dir, 'r2.csv') } });
    expect(inspection.screen).toMatchObject({ rowsAccepted: 1, rowsRejected: 1, rejectReasons: { WRONG_BUSINESS_DATE: 1 } });
  });

  it('throws FeedFileChangedError when the file grows while it is read', async () => {
    const row = ROWS[0]!;
    const count = Math.ceil((3 << 20) / row.length);
    const file = await feedFile(lines(HEADER, ...Array.from({ length: count }, () => row), `TRL,${count},${(12.5 * count).toFixed(2)}`));
    let appended = false;
    const onProgress = () => {
      if (appended) return;
      appended = true;
      appendFileSync(file, `${row}\n`);
    };
    const error: unknown = await inspectFeedFile(file, transactions, { onProgress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedFileChangedError);
    expect((error as FeedFileChangedError).after.size).toBe((error as FeedFileChangedError).before.size + row.length + 1);
  });

  it('RECORD_TOO_LONG for a line beyond the limit, without reading the rest of the file', async () => {
    const huge = 'x'.repeat(10 << 20);
    const file = await feedFile(lines(HEADER, ROWS[0]!.replace('REWE Markt Berlin', huge), 'TRL,1,12.50'));
    let read = 0;
    const error: unknown = await inspectFeedFile(file, transactions, { onProgress: (bytes) => (read = bytes) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RECORD_TOO_LONG', line: 2 });
    expect(read).toBeLessThan(MAX_LINE_LENGTH + (2 << 20));
  });

  it('accepts CRLF line endings', async () => {
    const file = await feedFile(`${[HEADER, ...ROWS, TRAILER].join('\r\n')}\r\n`);
    await expect(inspectFeedFile(file, transactions)).resolves.toMatchObject({ rowsIn: 3, computedSum: '1012.45' });
  });

  it('accepts a file without a final newline', async () => {
    await expect(inspectFeedFile(await feedFile([HEADER, ...ROWS, TRAILER].join('\n')), transactions)).resolves.toMatchObject({ rowsIn: 3 });
  });

  it('rejects blank lines after the trailer (the trailer must be the last line, as Spark reads it)', async () => {
    await expect(inspectFeedFile(await feedFile(`${lines(HEADER, ...ROWS, TRAILER)}\n\n`), transactions)).rejects.toMatchObject({
      code: 'BAD_TRAILER',
      actual: '2 blank line(s) after it',
    });
  });

  it('counts a blank line between records as a data line', async () => {
    const file = await feedFile(lines(HEADER, ROWS[0]!, '', ROWS[1]!, ROWS[2]!, 'TRL,4,1012.45'));
    await expect(inspectFeedFile(file, transactions)).resolves.toMatchObject({ rowsIn: 4 });
  });

  it('sums quoted control values and skips values that are not valid decimals', async () => {
    const quoted = ROWS[0]!.replace(',12.50,', ',"12.50",');
    const quoteBefore = ROWS[1]!.replace('A0010000002', '"A0010000002"');
    const notDecimal = ROWS[2]!.replace(',-0.05,', ',12.5.0,');
    const tooManyDecimals = ROWS[2]!.replace(',-0.05,', ',1.005,');
    const short = 'T2026112000000009,A0010000001';
    const file = await feedFile(lines(HEADER, quoted, quoteBefore, notDecimal, tooManyDecimals, short, 'TRL,5,1012.50'));
    await expect(inspectFeedFile(file, transactions)).resolves.toMatchObject({ rowsIn: 5, computedSum: '1012.50' });
  });

  it('writes the control sum of a feed without control column as 0', async () => {
    const header = customers.columns.map((c) => c.name).join(',');
    const row = 'C0001000001,Anna Müller,,1984-02-29,DE,RETAIL,MOBILE,ACTIVE,VERIFIED,2019-03-01T09:30:00Z';
    const file = path.join(dir, 'customers.csv');
    await writeFile(file, lines(header, row, 'TRL,1,0'));
    await expect(inspectFeedFile(file, customers)).resolves.toMatchObject({ rowsIn: 1, controlSum: '0', computedSum: '0' });
  });

  it('handles a header and trailer only', async () => {
    const file = await feedFile(lines(HEADER, 'TRL,0,0.00'));
    await expect(inspectFeedFile(file, transactions)).resolves.toMatchObject({ rowsIn: 0, computedSum: '0.00' });
  });

  it('verifies the .sha256 sidecar when delivered', async () => {
    const content = lines(HEADER, ...ROWS, TRAILER);
    const digest = createHash('sha256').update(content).digest('hex');
    const file = await feedFile(content, { sidecar: sidecarLine(digest.toUpperCase(), 'transactions.csv') });
    await expect(inspectFeedFile(file, transactions)).resolves.toMatchObject({ sha256: digest, sidecarVerified: true });
  });

  describe('errors', () => {
    it('EMPTY_FILE for a zero-byte or blank file', async () => {
      expect(await codeOf(await feedFile(''))).toBe('EMPTY_FILE');
      expect(await codeOf(await feedFile('\n\r\n'))).toBe('EMPTY_FILE');
    });

    it('BAD_ENCODING for bytes that are not UTF-8, naming the line and byte offset', async () => {
      const latin1 = Buffer.from(lines(HEADER, ROWS[0]!.replace('REWE Markt Berlin', 'B\u00e4ckerei'), 'TRL,1,12.50'), 'latin1');
      const error = await failure(await feedFile(latin1));
      expect(error.code).toBe('BAD_ENCODING');
      expect(error.line).toBe(2);
      expect(error.actual).toBe(`a byte that is not UTF-8 at byte offset ${latin1.indexOf(0xe4)}`);
    });

    it('HEADER_MISMATCH naming a renamed column', async () => {
      const error = await failure(await feedFile(lines(HEADER.replace('amount', 'amt'), ...ROWS, TRAILER)));
      expect(error.code).toBe('HEADER_MISMATCH');
      expect(error.message).toContain('renamed: amount → amt');
      expect(error.expected).toBe(HEADER);
      expect(error.actual).toBe(HEADER.replace('amount', 'amt'));
    });

    it('HEADER_MISMATCH naming missing and extra columns', async () => {
      const header = HEADER.replace(',description', '') + ',branch_code';
      const error = await failure(await feedFile(lines(header, TRAILER)));
      expect(error.code).toBe('HEADER_MISMATCH');
      expect(error.message).toMatch(/renamed: description → branch_code/);
      const missing = await failure(await feedFile(lines(HEADER.replace(',description', ''), TRAILER)));
      expect(missing.message).toMatch(/missing: description/);
      const extra = await failure(await feedFile(lines(`${HEADER},branch_code`, TRAILER)));
      expect(extra.message).toMatch(/extra: branch_code/);
    });

    it('HEADER_MISMATCH for columns out of order', async () => {
      const swapped = HEADER.replace('direction,amount', 'amount,direction');
      expect((await failure(await feedFile(lines(swapped, TRAILER)))).message).toMatch(/different order/);
    });

    it('HEADER_MISMATCH without showing a data line that stands where the header should be', async () => {
      const error = await failure(await feedFile(lines(ROWS[0]!, ROWS[1]!, 'TRL,1,1000.00')));
      expect(error.code).toBe('HEADER_MISMATCH');
      expect(error.message).not.toMatch(/T2026112000000001|A0010000001|REWE/);
    });

    it('MISSING_TRAILER when the last line is a record, without showing it', async () => {
      const error = await failure(await feedFile(lines(HEADER, ...ROWS)));
      expect(error.code).toBe('MISSING_TRAILER');
      expect(error.message).not.toMatch(/T2026112000000003|Refund/);
      expect(await codeOf(await feedFile(lines(HEADER)))).toBe('MISSING_TRAILER');
    });

    it.each(['TRL,x,1012.45', 'TRL,3', 'TRL,3,1e3', 'TRL,3,1012.456'])('BAD_TRAILER for %s', async (trailer) => {
      expect(await codeOf(await feedFile(lines(HEADER, ...ROWS, trailer)))).toBe('BAD_TRAILER');
    });

    it('COUNT_MISMATCH with the trailer count as expected and the lines counted as actual', async () => {
      const error = await failure(await feedFile(lines(HEADER, ...ROWS, 'TRL,4,1012.45')));
      expect(error).toMatchObject({ code: 'COUNT_MISMATCH', expected: '4 data lines (trailer)', actual: '3 data lines' });
      expect(error.message).toContain(error.file);
      expect(error.message).toContain(error.expected);
      expect(error.message).toContain(error.actual);
    });

    it('SUM_MISMATCH with both sums', async () => {
      const error = await failure(await feedFile(lines(HEADER, ...ROWS, 'TRL,3,1012.46')));
      expect(error).toMatchObject({ code: 'SUM_MISMATCH', expected: '1012.46 (trailer)', actual: '1012.45 (sum of amount)' });
    });

    it('CHECKSUM_MISMATCH when the sidecar digest differs', async () => {
      const file = await feedFile(lines(HEADER, ...ROWS, TRAILER), { sidecar: sidecarLine('0'.repeat(64), 'transactions.csv') });
      const error = await failure(file);
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.expected).toBe('0'.repeat(64));
    });

    it('CHECKSUM_MISMATCH when the sidecar holds no digest', async () => {
      expect(await codeOf(await feedFile(lines(HEADER, ...ROWS, TRAILER), { sidecar: 'pending\n' }))).toBe('CHECKSUM_MISMATCH');
    });

    it('is a FeedFileError naming file, expected and actual', async () => {
      const error = await failure(await feedFile(lines(HEADER, ...ROWS, 'TRL,2,1012.45')));
      expect(error).toBeInstanceOf(FeedFileError);
      expect(error.file).toBe(path.join(dir, 'transactions.csv'));
      expect(error.message).toBe(`COUNT_MISMATCH in ${error.file} at line 5: expected 2 data lines (trailer), actual 3 data lines`);
    });
  });
});

describe('firstInvalidUtf8', () => {
  it('finds the first byte that is not UTF-8 and accepts a sequence cut at either end of the chunk', () => {
    expect(firstInvalidUtf8(Buffer.from('ab\u00e9c', 'latin1'), false)).toBe(2);
    expect(firstInvalidUtf8(Buffer.from('ab\u00e9c', 'utf8'), false)).toBe(5);
    expect(firstInvalidUtf8(Buffer.from([0xa9, 0x41, 0xff]), true)).toBe(2);
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xe2, 0x82]), false)).toBe(3);
  });
});

describe('controlField', () => {
  it('cuts plain lines at commas', () => {
    expect(controlField('a,b,c', 1)).toBe('b');
    expect(controlField('a,b,c', 2)).toBe('c');
    expect(controlField('a,b', 2)).toBeUndefined();
  });

  it('parses lines with quotes at or before the field and keeps the fast path after it', () => {
    expect(controlField('"x,y",12.50,z', 1)).toBe('12.50');
    expect(controlField('a,"12.50",z', 1)).toBe('12.50');
    expect(controlField('a,12.50,"z', 1)).toBe('12.50');
    expect(controlField('O"Brien,12.50', 1)).toBe('12.50');
  });

  it('gives undefined for a line csv-parse cannot read', () => {
    expect(controlField('"open,12.50', 1)).toBeUndefined();
  });
});
