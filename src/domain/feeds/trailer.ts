/**
 * The trailer control record `TRL,<recordCount>,<controlSum>` that closes every feed file
 * (see the extract contract in ./catalog). Control sums are exact: decimals are held as
 * BigInt integers scaled by 10^scale, so a sum over millions of amounts never drifts and
 * compares equal to what the source system wrote.
 */

export const TRAILER_TAG = 'TRL';

export interface Trailer {
  readonly count: number;
  /** The control sum exactly as written in the file. */
  readonly sum: string;
}

export type TrailerProblem = 'NOT_A_TRAILER' | 'FIELD_COUNT' | 'BAD_COUNT' | 'BAD_SUM';

/**
 * A trailer line that cannot be read. The message never quotes a line that is not a trailer:
 * it may be a data record carrying personal data.
 */
export class TrailerFormatError extends Error {
  override readonly name = 'TrailerFormatError';
  constructor(
    readonly problem: TrailerProblem,
    message: string,
  ) {
    super(message);
  }
}

const COUNT = /^(0|[1-9][0-9]*)$/;
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

export function formatTrailer(count: number, sum: bigint, scale: number): string {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`trailer count must be a non-negative integer, got ${count}`);
  return `${TRAILER_TAG},${count},${formatScaledDecimal(sum, scale)}`;
}

/** Reads a trailer line (a trailing CR is ignored). Throws {@link TrailerFormatError}. */
export function parseTrailer(line: string): Trailer {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (!text.startsWith(`${TRAILER_TAG},`)) {
    throw new TrailerFormatError('NOT_A_TRAILER', `not a trailer record: the line does not start with '${TRAILER_TAG},'`);
  }
  const parts = text.split(',');
  if (parts.length !== 3) {
    throw new TrailerFormatError('FIELD_COUNT', `trailer must have 3 fields (${TRAILER_TAG},<count>,<sum>), found ${parts.length}`);
  }
  const [, count, sum] = parts as [string, string, string];
  if (!COUNT.test(count) || !Number.isSafeInteger(Number(count))) {
    throw new TrailerFormatError('BAD_COUNT', `trailer record count '${count.slice(0, 32)}' is not a non-negative integer`);
  }
  if (!DECIMAL.test(sum)) {
    throw new TrailerFormatError('BAD_SUM', `trailer control sum '${sum.slice(0, 64)}' is not a decimal number`);
  }
  return { count: Number(count), sum };
}

const CODE_0 = 48;
const CODE_9 = 57;
const CODE_MINUS = 45;
const CODE_DOT = 46;

/**
 * `text` as an integer scaled by 10^scale, or null when it is not a valid decimal: an optional
 * leading '-', at least one integer digit, and optionally '.' followed by 1..scale digits
 * (no '+', exponent, spaces or thousands separators). Fewer decimals than `scale` are padded.
 */
export function parseScaledDecimal(text: string, scale: number): bigint | null {
  const length = text.length;
  let i = text.charCodeAt(0) === CODE_MINUS ? 1 : 0;
  const digitsStart = i;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c < CODE_0 || c > CODE_9) break;
    i++;
  }
  const integerEnd = i;
  if (integerEnd === digitsStart) return null;
  let fraction = '';
  if (i < length) {
    if (text.charCodeAt(i) !== CODE_DOT) return null;
    const fractionStart = ++i;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c < CODE_0 || c > CODE_9) return null;
      i++;
    }
    const decimals = length - fractionStart;
    if (decimals === 0 || decimals > scale) return null;
    fraction = text.slice(fractionStart);
  }
  const digits = text.slice(digitsStart, integerEnd) + fraction + '0'.repeat(scale - fraction.length);
  const magnitude = BigInt(digits);
  return digitsStart === 1 ? -magnitude : magnitude;
}

/** Writes a scaled integer back as a decimal with exactly `scale` decimals ('-0.05', '0.00'). */
export function formatScaledDecimal(value: bigint, scale: number): string {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`scale must be a non-negative integer, got ${scale}`);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(scale + 1, '0');
  const integer = padded.slice(0, padded.length - scale);
  const fraction = padded.slice(padded.length - scale);
  return `${negative ? '-' : ''}${integer}.${fraction}`;
}
