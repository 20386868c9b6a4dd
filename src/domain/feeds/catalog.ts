/**
 * The feed catalog: the one description of every extract the bank's systems of record
 * deliver. The generator, the ingest checks, the zod row schemas and the Spark jobs (which
 * receive this catalog as JSON in their job spec) all read it, so a column is declared once.
 *
 * File format of every feed (the "extract contract"):
 * - UTF-8 CSV, comma separated, RFC 4180 quoting, one record per physical line (LF or CRLF);
 * - first line: the header, exactly the catalog's column names in order;
 * - last line: the trailer control record `TRL,<recordCount>,<controlSum>` where recordCount
 *   is the number of data lines and controlSum the sum of the control column over every
 *   data line whose value is a valid decimal, written with the column's scale (no control
 *   column: `0`);
 * - file name `<feed>.csv` in `landing/<businessDate>/`, optionally with `<feed>.csv.sha256`
 *   (hex digest, as `sha256sum` writes it) delivered beside it.
 */

export type ColumnType =
  | { kind: 'string'; maxLength: number; pattern?: string }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  /** `min` is inclusive (a value equal to it passes) unless `minExclusive`. */
  | { kind: 'decimal'; precision: number; scale: number; min?: number; minExclusive?: boolean }
  | { kind: 'currency' };

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable?: boolean;
  /** Personal data: redacted in logs, never copied into workflow payloads. */
  readonly pii?: boolean;
  /** Must reference an existing key of another feed of the same business date. */
  readonly references?: { readonly feed: FeedName; readonly column: string };
}

export type FeedName = 'customers' | 'accounts' | 'transactions' | 'payments' | 'fx_rates';

export interface FeedSpec {
  readonly name: FeedName;
  readonly description: string;
  /** The system of record and team that owns the extract (who to call when it is late or bad). */
  readonly owner: string;
  /** A required feed blocks the night; an optional one may be skipped (recorded in the manifest). */
  readonly required: boolean;
  /** Local time (HH:MM, the bank's time zone) by which the extract is due. */
  readonly arrivalCutoff: string;
  readonly columns: readonly ColumnSpec[];
  /** Business key: duplicates are rejected (first line wins). */
  readonly primaryKey: readonly string[];
  /** Column summed into the trailer's control sum, or null for a count-only trailer. */
  readonly controlColumn: string | null;
}

/**
 * Decimals of the currencies whose ISO 4217 minor unit is not 2 (JPY has none). Every monetary
 * output in a currency is rounded once, half-up away from zero, to its minor unit; the Spark jobs
 * receive this map in their spec (`minorUnits`).
 */
export const CURRENCY_MINOR_UNITS: Readonly<Record<string, number>> = { JPY: 0 };

/** ISO 4217 codes the bank deals in; anything else is rejected as an unknown currency. */
export const KNOWN_CURRENCIES = [
  'EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF', 'CAD', 'AUD', 'SGD',
] as const;

const amount = { kind: 'decimal', precision: 18, scale: 2 } as const;

export const FEEDS: readonly FeedSpec[] = [
  {
    name: 'customers',
    description: 'Customer master snapshot with onboarding stage and KYC status',
    owner: 'BORT-CRM / customer onboarding',
    required: true,
    arrivalCutoff: '01:00',
    primaryKey: ['customer_id'],
    controlColumn: null,
    columns: [
      { name: 'customer_id', type: { kind: 'string', maxLength: 16, pattern: '^C[0-9]{7,12}$' } },
      { name: 'full_name', type: { kind: 'string', maxLength: 120 }, pii: true },
      { name: 'email', type: { kind: 'string', maxLength: 160 }, pii: true, nullable: true },
      { name: 'date_of_birth', type: { kind: 'date' }, pii: true },
      { name: 'country', type: { kind: 'string', maxLength: 2, pattern: '^[A-Z]{2}$' } },
      { name: 'segment', type: { kind: 'enum', values: ['RETAIL', 'SME', 'PRIVATE'] } },
      { name: 'channel', type: { kind: 'enum', values: ['BRANCH', 'ONLINE', 'MOBILE'] } },
      {
        name: 'onboarding_stage',
        type: { kind: 'enum', values: ['APPLIED', 'DOCUMENTS_SUBMITTED', 'KYC_CHECKED', 'APPROVED', 'ACTIVE'] },
      },
      { name: 'kyc_status', type: { kind: 'enum', values: ['PENDING', 'VERIFIED', 'REJECTED'] } },
      { name: 'onboarded_at', type: { kind: 'timestamp' } },
    ],
  },
  {
    name: 'accounts',
    description: 'Account snapshot with the opening (start of day) ledger balance',
    owner: 'BORT-CORE / core banking ledger',
    required: true,
    arrivalCutoff: '01:00',
    primaryKey: ['account_id'],
    controlColumn: 'opening_balance',
    columns: [
      { name: 'account_id', type: { kind: 'string', maxLength: 16, pattern: '^A[0-9]{8,12}$' } },
      {
        name: 'customer_id',
        type: { kind: 'string', maxLength: 16, pattern: '^C[0-9]{7,12}$' },
        references: { feed: 'customers', column: 'customer_id' },
      },
      { name: 'iban', type: { kind: 'string', maxLength: 34, pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$' }, pii: true },
      { name: 'product', type: { kind: 'enum', values: ['CURRENT', 'SAVINGS', 'CARD', 'LOAN'] } },
      { name: 'currency', type: { kind: 'currency' } },
      { name: 'status', type: { kind: 'enum', values: ['OPEN', 'DORMANT', 'CLOSED'] } },
      { name: 'opened_on', type: { kind: 'date' } },
      { name: 'opening_balance', type: amount },
    ],
  },
  {
    name: 'transactions',
    description: 'Retail card, ATM, branch and online transactions booked on the business date',
    owner: 'BORT-CARDS / retail transaction switch',
    required: true,
    arrivalCutoff: '02:00',
    primaryKey: ['txn_id'],
    controlColumn: 'amount',
    columns: [
      { name: 'txn_id', type: { kind: 'string', maxLength: 20, pattern: '^T[0-9]{9,16}$' } },
      {
        name: 'account_id',
        type: { kind: 'string', maxLength: 16, pattern: '^A[0-9]{8,12}$' },
        references: { feed: 'accounts', column: 'account_id' },
      },
      { name: 'booked_at', type: { kind: 'timestamp' } },
      { name: 'value_date', type: { kind: 'date' } },
      { name: 'direction', type: { kind: 'enum', values: ['DEBIT', 'CREDIT'] } },
      { name: 'amount', type: { ...amount, min: 0 } },
      { name: 'currency', type: { kind: 'currency' } },
      { name: 'channel', type: { kind: 'enum', values: ['POS', 'ATM', 'ONLINE', 'BRANCH'] } },
      { name: 'merchant_category', type: { kind: 'string', maxLength: 4, pattern: '^[0-9]{4}$' }, nullable: true },
      { name: 'description', type: { kind: 'string', maxLength: 140 }, nullable: true },
    ],
  },
  {
    name: 'payments',
    description: 'Outgoing payments by rail with their settlement status',
    owner: 'BORT-PAY / payments hub',
    required: true,
    arrivalCutoff: '02:00',
    primaryKey: ['payment_id'],
    controlColumn: 'amount',
    columns: [
      { name: 'payment_id', type: { kind: 'string', maxLength: 20, pattern: '^P[0-9]{9,16}$' } },
      {
        name: 'debtor_account_id',
        type: { kind: 'string', maxLength: 16, pattern: '^A[0-9]{8,12}$' },
        references: { feed: 'accounts', column: 'account_id' },
      },
      { name: 'creditor_iban', type: { kind: 'string', maxLength: 34, pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$' }, pii: true },
      { name: 'creditor_name', type: { kind: 'string', maxLength: 120 }, pii: true },
      { name: 'rail', type: { kind: 'enum', values: ['SEPA_SCT', 'SEPA_INST', 'SWIFT', 'TARGET2', 'INTERNAL'] } },
      { name: 'status', type: { kind: 'enum', values: ['SETTLED', 'PENDING', 'REJECTED', 'RETURNED'] } },
      { name: 'amount', type: { ...amount, min: 0 } },
      { name: 'currency', type: { kind: 'currency' } },
      { name: 'initiated_at', type: { kind: 'timestamp' } },
      { name: 'settled_at', type: { kind: 'timestamp' }, nullable: true },
    ],
  },
  {
    name: 'fx_rates',
    description: 'End-of-day reference rates: reporting-currency units per unit of currency',
    owner: 'BORT-TREASURY / market data',
    required: true,
    arrivalCutoff: '00:30',
    primaryKey: ['currency'],
    controlColumn: 'rate',
    columns: [
      { name: 'currency', type: { kind: 'currency' } },
      { name: 'rate_date', type: { kind: 'date' } },
      // A rate of 0 would make every amount in the currency worth nothing: strictly positive.
      { name: 'rate', type: { kind: 'decimal', precision: 18, scale: 8, min: 0, minExclusive: true } },
      { name: 'source', type: { kind: 'string', maxLength: 32 } },
    ],
  },
];

export const FEED_NAMES: readonly FeedName[] = FEEDS.map((f) => f.name);

export function feedSpec(name: FeedName): FeedSpec {
  const spec = FEEDS.find((f) => f.name === name);
  if (!spec) throw new Error(`unknown feed '${name}'`);
  return spec;
}

/** The control column's decimal scale, used to write and compare the trailer's sum. */
export function controlScale(feed: FeedSpec): number {
  if (feed.controlColumn === null) return 0;
  const col = feed.columns.find((c) => c.name === feed.controlColumn);
  if (!col || col.type.kind !== 'decimal') throw new Error(`feed ${feed.name}: control column must be decimal`);
  return col.type.scale;
}
