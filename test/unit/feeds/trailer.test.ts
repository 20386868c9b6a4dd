import {
  formatScaledDecimal,
  formatTrailer,
  parseScaledDecimal,
  parseTrailer,
  TrailerFormatError,
  type TrailerProblem,
} from '../../../src/domain/feeds/trailer';

function problemOf(line: string): TrailerProblem | 'no error' {
  try {
    parseTrailer(line);
    return 'no error';
  } catch (error) {
    if (!(error instanceof TrailerFormatError)) throw error;
    return error.problem;
  }
}

describe('parseScaledDecimal', () => {
  it.each([
    ['0', 2, 0n],
    ['12.5', 2, 1250n],
    ['12.34', 2, 1234n],
    ['-0.05', 2, -5n],
    ['-20', 2, -2000n],
    ['123', 0, 123n],
    ['0.92000000', 8, 92_000_000n],
    ['99999999999999999999999.99', 2, 9_999_999_999_999_999_999_999_999n],
  ])('reads %s at scale %i', (text, scale, expected) => {
    expect(parseScaledDecimal(text, scale)).toBe(expected);
  });

  it.each([
    ['', 2],
    ['-', 2],
    ['1.', 2],
    ['.5', 2],
    ['+1', 2],
    ['1e3', 2],
    [' 1', 2],
    ['1 ', 2],
    ['1,00', 2],
    ['1.234', 2],
    ['1.0', 0],
    ['--1', 2],
    ['NaN', 2],
  ])('rejects %p at scale %i', (text, scale) => {
    expect(parseScaledDecimal(text, scale)).toBeNull();
  });
});

describe('formatScaledDecimal', () => {
  it.each([
    [0n, 2, '0.00'],
    [-5n, 2, '-0.05'],
    [1234n, 2, '12.34'],
    [-123_456n, 2, '-1234.56'],
    [123n, 0, '123'],
    [-7n, 0, '-7'],
    [100_000_000n, 8, '1.00000000'],
    [610_000n, 8, '0.00610000'],
  ])('writes %p at scale %i as %s', (value, scale, expected) => {
    expect(formatScaledDecimal(value, scale)).toBe(expected);
  });

  it('round-trips with parseScaledDecimal', () => {
    for (const text of ['0.00', '-0.01', '1.10', '-98765432109876543210.99']) {
      expect(formatScaledDecimal(parseScaledDecimal(text, 2)!, 2)).toBe(text);
    }
  });
});

describe('control sums', () => {
  it('adds decimals exactly where binary floating point drifts', () => {
    let sum = 0n;
    for (let i = 0; i < 10; i++) sum += parseScaledDecimal('0.10', 2)!;
    expect(formatScaledDecimal(sum, 2)).toBe('1.00');
    expect(0.1 * 3).not.toBe(0.3);
    expect(formatScaledDecimal(parseScaledDecimal('0.1', 2)! * 3n, 2)).toBe('0.30');
  });

  it('sums a million maximal amounts without losing a cent', () => {
    const max = parseScaledDecimal('9999999999999999.99', 2)!;
    let sum = 0n;
    for (let i = 0; i < 1_000_000; i++) sum += max;
    expect(formatScaledDecimal(sum, 2)).toBe(`${'9'.repeat(16)}990000.00`);
  });

  it('sums negative and positive values to an exact negative total', () => {
    const values = ['-1000.01', '250.50', '-0.49', '749.99'];
    const sum = values.reduce((acc, v) => acc + parseScaledDecimal(v, 2)!, 0n);
    expect(formatScaledDecimal(sum, 2)).toBe('-0.01');
  });
});

describe('formatTrailer', () => {
  it('writes count and sum with the control scale', () => {
    expect(formatTrailer(3, 1234n, 2)).toBe('TRL,3,12.34');
    expect(formatTrailer(2, -5n, 2)).toBe('TRL,2,-0.05');
    expect(formatTrailer(14, 668_959_489n, 8)).toBe('TRL,14,6.68959489');
  });

  it('writes 0 as the sum of a feed without control column', () => {
    expect(formatTrailer(0, 0n, 0)).toBe('TRL,0,0');
  });

  it('refuses a negative or fractional count', () => {
    expect(() => formatTrailer(-1, 0n, 2)).toThrow(RangeError);
    expect(() => formatTrailer(1.5, 0n, 2)).toThrow(RangeError);
  });
});

describe('parseTrailer', () => {
  it('reads count and sum, also with a CR left over from CRLF', () => {
    expect(parseTrailer('TRL,3,12.34')).toEqual({ count: 3, sum: '12.34' });
    expect(parseTrailer('TRL,0,0\r')).toEqual({ count: 0, sum: '0' });
    expect(parseTrailer('TRL,2,-0.05')).toEqual({ count: 2, sum: '-0.05' });
  });

  it.each<[string, TrailerProblem]>([
    ['T2026112000000001,A0010000001,2026-11-20T10:00:00Z', 'NOT_A_TRAILER'],
    ['trl,1,0', 'NOT_A_TRAILER'],
    ['', 'NOT_A_TRAILER'],
    ['TRL,3', 'FIELD_COUNT'],
    ['TRL,3,1.00,extra', 'FIELD_COUNT'],
    ['TRL,-1,0', 'BAD_COUNT'],
    ['TRL,x,0', 'BAD_COUNT'],
    ['TRL,007,0', 'BAD_COUNT'],
    ['TRL,,0', 'BAD_COUNT'],
    ['TRL,99999999999999999999,0', 'BAD_COUNT'],
    ['TRL,3,1e5', 'BAD_SUM'],
    ['TRL,3,', 'BAD_SUM'],
    ['TRL,3,12.', 'BAD_SUM'],
  ])('reports %p as %s', (line, problem) => {
    expect(problemOf(line)).toBe(problem);
  });

  it('does not quote a line that is not a trailer (it may carry personal data)', () => {
    const line = 'C0001000001,Anna Müller,anna.mueller@example.com';
    expect(() => parseTrailer(line)).toThrow(TrailerFormatError);
    expect(() => parseTrailer(line)).not.toThrow(/Anna|Müller|example/);
  });
});
