import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { feedSpec } from '../../../src/domain/feeds/catalog';
import { controlField, FeedFileError, inspectFeedFile, sidecarLine, type FeedFileErrorCode } from '../../../src/feeds/inspect';

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
    });
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

    it('BAD_ENCODING for a UTF-8 byte order mark', async () => {
      const file = await feedFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines(HEADER, ...ROWS, TRAILER))]));
      const error = await failure(file);
      expect(error.code).toBe('BAD_ENCODING');
      expect(error.actual).toMatch(/byte order mark/);
    });

    it('BAD_ENCODING for bytes that are not UTF-8', async () => {
      const latin1 = Buffer.from(lines(HEADER, ROWS[0]!.replace('REWE Markt Berlin', 'B\u00e4ckerei'), 'TRL,1,12.50'), 'latin1');
      expect(await codeOf(await feedFile(latin1))).toBe('BAD_ENCODING');
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
      expect(error.message).toBe(`COUNT_MISMATCH in ${error.file}: expected 2 data lines (trailer), actual 3 data lines`);
    });
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
