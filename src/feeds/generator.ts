import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { addDays, BusinessDate } from '../domain/business-date';
import { controlScale, CURRENCY_MINOR_UNITS, FEED_NAMES, feedSpec, KNOWN_CURRENCIES, type FeedName, type FeedSpec } from '../domain/feeds/catalog';
import { formatScaledDecimal, formatTrailer, parseScaledDecimal } from '../domain/feeds/trailer';
import { controlField, sidecarLine } from './inspect';

/**
 * A deterministic generator of one business date's extracts, for demos, tests and benchmarks.
 * The same options give byte-identical files. The data is fake but shaped like a retail bank's:
 * a customer base with an onboarding funnel, accounts owned by onboarded customers, card/ATM/
 * branch/online transactions on those accounts (with a few large values and structuring
 * patterns planted so that risk alerts appear), outgoing payments, and the day's fx rates.
 *
 * Defects are injected per data line at `defectRate`, each kind rejected by the normalize job
 * with its own reason. fx_rates never gets defects: one bad rate would reject every row in that
 * currency (NO_FX_RATE) and drown the injected defects of the other feeds.
 */

export const DEFECT_KINDS = ['malformed-row', 'unknown-currency', 'bad-date', 'duplicate-id', 'broken-quoting'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

const GenerateFeedsOptions = z.object({
  landingDir: z.string().min(1),
  businessDate: BusinessDate,
  seed: z.number().int(),
  transactions: z.number().int().min(0).max(99_999_999),
  customers: z.number().int().min(1).max(999_999_999).optional(),
  accounts: z.number().int().min(1).max(999_999_999).optional(),
  payments: z.number().int().min(0).max(99_999_999).optional(),
  defectRate: z.number().min(0).max(1),
  defectKinds: z.array(z.enum(DEFECT_KINDS)).optional(),
});
export type GenerateFeedsOptions = z.input<typeof GenerateFeedsOptions>;

export interface GeneratedFeed {
  readonly feed: FeedName;
  readonly path: string;
  /** Data lines (the trailer's record count). */
  readonly rows: number;
  readonly defects: Record<DefectKind, number>;
  readonly sha256: string;
}

export interface GenerateFeedsResult {
  readonly feeds: GeneratedFeed[];
}

export async function generateFeeds(options: GenerateFeedsOptions): Promise<GenerateFeedsResult> {
  const parsed = GenerateFeedsOptions.safeParse(options);
  if (!parsed.success) throw new Error(`invalid generator options: ${z.prettifyError(parsed.error)}`);
  const opts = parsed.data;
  const customers = opts.customers ?? Math.max(50, Math.round(opts.transactions / 20));
  const sizes = {
    customers,
    accounts: opts.accounts ?? Math.round(customers * 1.5),
    transactions: opts.transactions,
    payments: opts.payments ?? Math.round(opts.transactions / 5),
  };
  const kinds = opts.defectKinds ?? DEFECT_KINDS;
  const world = planWorld(opts.businessDate, opts.seed, sizes);

  await mkdir(opts.landingDir, { recursive: true });
  const renderers: Record<FeedName, FeedRenderer> = {
    customers: customersFeed(world),
    accounts: accountsFeed(world),
    transactions: transactionsFeed(world),
    payments: paymentsFeed(world),
    fx_rates: fxRatesFeed(world),
  };
  const feeds: GeneratedFeed[] = [];
  for (const name of FEED_NAMES) {
    const defects = name === 'fx_rates' ? { rate: 0, kinds: [] } : { rate: opts.defectRate, kinds };
    feeds.push(await writeFeed(opts.landingDir, renderers[name], defects, opts.seed));
  }
  return { feeds };
}

// ---------------------------------------------------------------------------------------------
// Randomness: one small seeded PRNG (mulberry32) per purpose, so that e.g. changing the defect
// rate does not change the data itself.

class Random {
  private state: number;

  constructor(seed: number, purpose: string) {
    // FNV-1a over the seed and purpose picks the stream.
    let h = 0x811c9dc5;
    const text = `${seed}/${purpose}`;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    this.state = h >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }

  /** A log-normal-ish positive value with the given median (sum of three uniforms as the normal). */
  skewed(median: number, spread: number): number {
    const normal = (this.next() + this.next() + this.next() - 1.5) * 2;
    return median * Math.exp(spread * normal);
  }
}

/** Picks from a fixed table of weights in O(table size), fine for the short tables below. */
class Weighted<T> {
  private readonly values: T[];
  private readonly cumulative: number[];

  constructor(table: readonly (readonly [T, number])[]) {
    const total = table.reduce((sum, [, weight]) => sum + weight, 0);
    let running = 0;
    this.values = table.map(([value]) => value);
    this.cumulative = table.map(([, weight]) => (running += weight) / total);
  }

  pick(random: Random): T {
    const u = random.next();
    for (let i = 0; i < this.cumulative.length; i++) if (u < this.cumulative[i]!) return this.values[i]!;
    return this.values[this.values.length - 1]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Dates and formatting without per-row Date objects: day numbers since 1970-01-01.

function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / 86_400_000);
}

/** civil-from-days (proleptic Gregorian), see Howard Hinnant's date algorithms. */
function dateOf(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${PAD2[m]}-${PAD2[d]}`;
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

function timeOf(second: number): string {
  return `${PAD2[Math.floor(second / 3600)]}:${PAD2[Math.floor(second / 60) % 60]}:${PAD2[second % 60]}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * An amount in cents rounded to its currency's minor unit (half away from zero): a JPY amount is
 * whole yen, as the bank's systems write it. A positive amount stays positive.
 */
function inMinorUnits(amountCents: number, currency: string): number {
  const decimals = CURRENCY_MINOR_UNITS[currency] ?? 2;
  if (decimals >= 2) return amountCents;
  const step = 10 ** (2 - decimals);
  const rounded = Math.sign(amountCents) * Math.round(Math.abs(amountCents) / step) * step;
  return amountCents > 0 ? Math.max(rounded, step) : rounded;
}

/** An integer scaled by 10^2 as a decimal with two places ('-0.05'). */
function cents(value: number): string {
  const negative = value < 0;
  const abs = negative ? -value : value;
  const fraction = abs % 100;
  return `${negative ? '-' : ''}${(abs - fraction) / 100}.${PAD2[fraction]}`;
}

function csvText(value: string): string {
  return value.includes(',') || value.includes('"') ? `"${value.replace(/"/g, '""')}"` : value;
}

// ---------------------------------------------------------------------------------------------
// Reference data.

const FIRST_NAMES = [
  'Anna', 'Lukas', 'Sophie', 'Maximilian', 'Marie', 'Paul', 'Emma', 'Jonas', 'Lea', 'Felix', 'Hannah', 'Leon',
  'Julia', 'Elias', 'Clara', 'Noah', 'Léa', 'Hugo', 'Chloé', 'Louis', 'Camille', 'Théo', 'Manon', 'Gabriel',
  'Daan', 'Sanne', 'Bram', 'Fleur', 'Lucía', 'Javier', 'Carmen', 'Pablo', 'Giulia', 'Lorenzo', 'Francesca',
  'Matteo', 'Zofia', 'Łukasz', 'Agnieszka', 'Piotr', 'João', 'Inês', 'Siobhan', 'Ciarán', 'Erik', 'Astrid',
  'Mikkel', 'Ingrid', 'Jürgen', 'Renée', 'Fatma', 'Mehmet', 'Aylin', 'Omar', 'Amira', 'Olga', 'Dmitri', 'Nora',
] as const;

const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer',
  'Koch', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Martin', 'Bernard', 'Dubois', 'Lefèvre', 'Moreau',
  'Laurent', 'de Jong', 'Jansen', 'van der Berg', 'Bakker', 'García', 'Fernández', 'López', 'Martínez', 'Rossi',
  'Russo', 'Ferrari', 'Esposito', 'Nowak', 'Kowalski', 'Wiśniewski', 'Silva', 'Santos', "O'Brien", 'Murphy',
  'Kelly', 'Andersson', 'Nielsen', 'Hansen', 'Berg', 'Yılmaz', 'Kaya', 'Haddad', 'Ivanova', 'Peeters', 'Maes',
  'Gruber', 'Huber', 'Novák', 'Nagy', 'Keller', 'Brunner',
] as const;

const COMPANY_FORMS = ['GmbH', 'AG', 'SE', 'SARL', 'SA', 'BV', 'NV', 'S.r.l.', 'S.L.', 'Ltd', 'sp. z o.o.', 'KG'] as const;
const COMPANY_TRADES = [
  'Logistik', 'Bau', 'Immobilien', 'Consulting', 'Elektro', 'Haustechnik', 'Software', 'Handel', 'Transporte',
  'Energie', 'Catering', 'Medien', 'Dental', 'Autohaus', 'Reisen', 'Versicherungsmakler',
] as const;
const UTILITIES = [
  'Stadtwerke Nordhafen', 'Telekom Service', 'Vattenfeld Energie', 'Allgemeine Versicherung', 'Hausverwaltung Lindenhof',
  'Finanzamt Mitte', 'Rundfunkbeitrag Service', 'Krankenkasse Plus', 'Mobilfunk Direkt', 'Wasserwerke Süd',
] as const;

const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'post.example'] as const;

const MERCHANTS: readonly (readonly [string, string])[] = [
  ['5411', 'REWE Markt'], ['5411', 'Lidl'], ['5411', 'Carrefour'], ['5411', 'Albert Heijn'], ['5411', 'Mercadona'],
  ['5411', 'Esselunga'], ['5812', 'Trattoria Da Mario'], ['5812', 'Brasserie du Port'], ['5814', 'Bäckerei Kamps'],
  ['5814', 'Coffee Fellows'], ['5541', 'Aral Tankstelle'], ['5541', 'Shell Station'], ['5912', 'Apotheke am Markt'],
  ['5311', 'Galeria'], ['5732', 'MediaMarkt'], ['5651', 'H&M'], ['5651', 'Zara'], ['4111', 'DB Fernverkehr'],
  ['4121', 'Taxi Zentrale'], ['7011', 'Hotel Ibis'], ['5999', 'dm-drogerie markt'], ['5942', 'Thalia Buchhandlung'],
];
const ONLINE_MERCHANTS: readonly (readonly [string, string])[] = [
  ['5999', 'AMZN Mktp EU'], ['5815', 'Spotify'], ['5815', 'Netflix'], ['4899', 'Vodafone Online'],
  ['5311', 'Zalando'], ['4121', 'Uber BV'], ['5812', 'Lieferando'], ['7011', 'Booking.com'],
];
const CITIES = ['Berlin', 'Hamburg', 'Muenchen', 'Koeln', 'Frankfurt', 'Paris', 'Lyon', 'Amsterdam', 'Madrid', 'Milano', 'Wien', 'Bruxelles'] as const;

const COUNTRIES = new Weighted<string>([
  ['DE', 40], ['FR', 10], ['NL', 8], ['AT', 6], ['ES', 6], ['IT', 6], ['BE', 5], ['PL', 4], ['PT', 3], ['GB', 3],
  ['IE', 2], ['LU', 2], ['CH', 2], ['US', 2], ['SE', 1],
]);

/** BBAN shapes: n digit, a letter, c letter or digit. */
const IBAN_SHAPES: readonly (readonly [string, string])[] = [
  ['DE', 'nnnnnnnnnnnnnnnnnn'], ['FR', 'nnnnnnnnnncccccccccccnn'], ['NL', 'aaaannnnnnnnnn'], ['ES', 'nnnnnnnnnnnnnnnnnnnn'],
  ['IT', 'annnnnnnnnncccccccccccc'], ['BE', 'nnnnnnnnnnnn'],
  ['AT', 'nnnnnnnnnnnnnnnn'], ['PL', 'nnnnnnnnnnnnnnnnnnnnnnnn'], ['LU', 'nnnccccccccccccc'], ['GB', 'aaaannnnnnnnnnnnnn'],
];

/** Reporting-currency (EUR) units per unit, as integers scaled by 10^8 before the day's jitter. */
const BASE_RATES: Readonly<Record<string, number>> = {
  EUR: 100_000_000, USD: 92_000_000, GBP: 117_000_000, CHF: 105_000_000, JPY: 610_000, SEK: 8_700_000,
  NOK: 8_500_000, DKK: 13_400_000, PLN: 23_000_000, CZK: 4_000_000, HUF: 250_000, CAD: 67_000_000,
  AUD: 60_000_000, SGD: 69_000_000,
};

const UNKNOWN_CURRENCIES = ['XXZ', 'EUX', 'RUR', 'USX'] as const;

const STAGES = ['APPLIED', 'DOCUMENTS_SUBMITTED', 'KYC_CHECKED', 'APPROVED', 'ACTIVE'] as const;
const APPROVED = 3;
const ACTIVE = 4;

/** Hour-of-day weights for card and online activity (UTC, roughly European daytime). */
const DAY_HOURS = new Weighted<number>(
  [1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 8, 9, 10, 11, 10, 9, 9, 10, 11, 11, 9, 7, 5, 3, 2].map((w, h) => [h, w] as const),
);

function daySecond(random: Random): number {
  return DAY_HOURS.pick(random) * 3600 + random.int(3600);
}

function emailSlug(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/ı/g, 'i')
    .replace(/[^a-z]/g, '');
}

function iban(country: string, bban: string): string {
  // ISO 13616: check digits make (BBAN + country + "00") mod 97 equal 1 once set.
  const rearranged = `${bban}${country}00`;
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    remainder = c <= 57 ? (remainder * 10 + (c - 48)) % 97 : (remainder * 100 + (c - 55)) % 97;
  }
  return `${country}${PAD2[98 - remainder]}${bban}`;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALPHANUMERIC = `${LETTERS}0123456789`;

function randomIban(random: Random): string {
  const [country, shape] = random.pick(IBAN_SHAPES);
  let bban = '';
  for (const kind of shape) {
    bban += kind === 'n' ? String(random.int(10)) : kind === 'a' ? LETTERS[random.int(26)] : ALPHANUMERIC[random.int(36)];
  }
  return iban(country, bban);
}

function personName(random: Random): string {
  const first = random.pick(FIRST_NAMES);
  const last = random.pick(LAST_NAMES);
  return random.chance(0.06) ? `${first} ${random.pick(FIRST_NAMES)} ${last}` : `${first} ${last}`;
}

// ---------------------------------------------------------------------------------------------
// The world: customers and accounts planned up front (compact typed arrays), so that the feeds
// that reference them can be rendered in any order and stay consistent.

interface Sizes {
  customers: number;
  accounts: number;
  transactions: number;
  payments: number;
}

interface Special {
  account: number;
  second: number;
  direction: 'DEBIT' | 'CREDIT';
  channel: 'ATM' | 'BRANCH' | 'ONLINE';
  amountCents: number;
  description: string;
}

interface World {
  seed: number;
  businessDate: string;
  businessDay: number;
  compactDate: string;
  sizes: Sizes;
  /** Currency codes; index into it is what the typed arrays store. */
  currencies: readonly string[];
  /** The day's rate per currency index, scaled by 10^8. */
  rates: number[];
  customer: {
    stage: Uint8Array;
    channel: Uint8Array;
    onboardedDay: Int32Array;
    onboardedSecond: Int32Array;
    protected: Set<number>;
  };
  account: {
    owner: Int32Array;
    product: Uint8Array;
    status: Uint8Array;
    currency: Uint8Array;
    openedDay: Int32Array;
    protected: Set<number>;
  };
  /** Account ids by index, built once: transactions and payments reference them per line. */
  accountIds: readonly string[];
  /** Accounts that transact (open current and card accounts). */
  transacting: Int32Array;
  /** Accounts that pay (open current and savings accounts). */
  paying: Int32Array;
  /** Planted transactions by line index: structuring patterns and large values. */
  specials: Map<number, Special>;
}

const CUSTOMER_CHANNELS = ['BRANCH', 'ONLINE', 'MOBILE'] as const;
const PRODUCTS = ['CURRENT', 'SAVINGS', 'CARD', 'LOAN'] as const;
const ACCOUNT_STATUSES = ['OPEN', 'DORMANT', 'CLOSED'] as const;

function planWorld(businessDate: string, seed: number, sizes: Sizes): World {
  const random = new Random(seed, 'world');
  const businessDay = dayNumber(businessDate);
  const currencies = [...KNOWN_CURRENCIES];
  const rateRandom = new Random(seed, 'fx');
  const rates = currencies.map((code) => {
    const base = BASE_RATES[code];
    if (base === undefined) throw new Error(`generator has no reference rate for currency ${code}`);
    return code === 'EUR' ? base : base + Math.round(base * (rateRandom.next() - 0.5) * 0.02);
  });
  const eur = currencies.indexOf('EUR');

  // Customers: ids grow with time; the newest few percent were onboarded on the business date
  // and spread over the funnel, the rest are mostly active.
  const nC = sizes.customers;
  const nNew = Math.min(nC, Math.max(12, Math.round(nC * 0.04)));
  const nOld = nC - nNew;
  const historyDays = 12 * 365;
  const customer = {
    stage: new Uint8Array(nC),
    channel: new Uint8Array(nC),
    onboardedDay: new Int32Array(nC),
    onboardedSecond: new Int32Array(nC),
    protected: new Set<number>(),
  };
  const oldStages = new Weighted<number>([[0, 1.5], [1, 1.5], [2, 2], [3, 2], [4, 93]]);
  const newStages = new Weighted<number>([[0, 30], [1, 22], [2, 16], [3, 12], [4, 20]]);
  const oldChannels = new Weighted<number>([[0, 40], [1, 30], [2, 30]]);
  const newChannels = new Weighted<number>([[0, 15], [1, 35], [2, 50]]);
  for (let i = 0; i < nC; i++) {
    const fresh = i >= nOld;
    customer.stage[i] = (fresh ? newStages : oldStages).pick(random);
    customer.channel[i] = (fresh ? newChannels : oldChannels).pick(random);
    customer.onboardedDay[i] = fresh
      ? businessDay
      : Math.min(businessDay - 1, businessDay - 1 - Math.floor(((nOld - i) * historyDays) / nOld) + random.int(3));
    customer.onboardedSecond[i] = fresh ? daySecond(random) : random.between(7 * 3600, 19 * 3600);
  }

  let eligible: number[] = [];
  for (let i = 0; i < nC; i++) if (customer.stage[i]! >= APPROVED) eligible.push(i);
  if (eligible.length === 0) {
    customer.stage[0] = ACTIVE;
    eligible = [0];
  }

  // Accounts: the first account of every onboarded customer in customer order, then second
  // accounts (savings, cards, loans) for random customers.
  const nA = sizes.accounts;
  const account = {
    owner: new Int32Array(nA),
    product: new Uint8Array(nA),
    status: new Uint8Array(nA),
    currency: new Uint8Array(nA),
    openedDay: new Int32Array(nA),
    protected: new Set<number>(),
  };
  const firstProducts = new Weighted<number>([[0, 85], [1, 10], [3, 5]]);
  const moreProducts = new Weighted<number>([[0, 10], [1, 40], [2, 35], [3, 15]]);
  const statuses = new Weighted<number>([[0, 92], [1, 6], [2, 2]]);
  const foreign = new Weighted<number>(
    currencies.map((code, i) => [i, code === 'EUR' ? 0 : ['USD', 'GBP', 'CHF'].includes(code) ? 5 : 1] as const),
  );
  for (let a = 0; a < nA; a++) {
    const first = a < eligible.length;
    const owner = first ? eligible[a]! : eligible[random.int(eligible.length)]!;
    const since = customer.onboardedDay[owner]!;
    account.owner[a] = owner;
    account.product[a] = (first ? firstProducts : moreProducts).pick(random);
    account.currency[a] = random.chance(0.93) ? eur : foreign.pick(random);
    account.openedDay[a] = since >= businessDay ? businessDay : since + random.int(Math.max(1, businessDay - since));
    account.status[a] = account.openedDay[a] === businessDay ? 0 : statuses.pick(random);
  }

  // Planted patterns live on first accounts of long-standing customers, forced to be open EUR
  // current accounts and kept free of defects (a rejected account or customer would cascade
  // into UNKNOWN_REFERENCE and hide the pattern).
  const candidates: number[] = [];
  for (let a = 0; a < Math.min(nA, eligible.length); a++) if (account.owner[a]! < nOld) candidates.push(a);
  const structuringCount = Math.max(2, Math.round(sizes.transactions / 50_000));
  const largeCount = Math.max(3, Math.round(sizes.transactions * 0.0005));
  const chosen = sample(random, candidates, structuringCount + 1 + Math.min(largeCount, 25));
  for (const a of chosen) {
    account.product[a] = 0;
    account.status[a] = 0;
    account.currency[a] = eur;
    account.protected.add(a);
    customer.stage[account.owner[a]!] = ACTIVE;
    customer.protected.add(account.owner[a]!);
  }

  const planted: Special[] = [];
  chosen.forEach((a, k) => {
    if (k <= structuringCount) {
      // Structuring: several cash credits just under the threshold; the last account gets
      // only two (a near miss that must not raise an alert).
      const count = k === structuringCount ? 2 : random.between(3, 5);
      for (let j = 0; j < count; j++) {
        const channel = random.chance(0.5) ? 'ATM' : 'BRANCH';
        planted.push({
          account: a,
          second: random.between(8 * 3600, 20 * 3600),
          direction: 'CREDIT',
          channel,
          amountCents: (9000 + 10 * random.int(99)) * 100,
          description: channel === 'ATM' ? 'ATM cash deposit' : 'Cash deposit',
        });
      }
    }
  });
  const largeAccounts = chosen.slice(structuringCount + 1);
  for (let j = 0; j < largeCount && largeAccounts.length > 0; j++) {
    planted.push({
      account: largeAccounts[j % largeAccounts.length]!,
      second: random.between(9 * 3600, 17 * 3600),
      direction: random.chance(0.5) ? 'CREDIT' : 'DEBIT',
      channel: random.chance(0.5) ? 'BRANCH' : 'ONLINE',
      amountCents: random.between(10_000, 250_000) * 100 + (random.chance(0.3) ? random.int(100) : 0),
      description: random.pick(['Property deposit', 'Car purchase', 'Inheritance transfer', 'Business sale proceeds']),
    });
  }
  const specials = new Map<number, Special>();
  const room = Math.floor(sizes.transactions / 2);
  for (const special of planted.slice(0, room)) {
    let line = random.int(sizes.transactions);
    while (specials.has(line)) line = (line + 1) % sizes.transactions;
    specials.set(line, special);
  }

  const transacting: number[] = [];
  const paying: number[] = [];
  for (let a = 0; a < nA; a++) {
    if (account.status[a] !== 0) continue;
    const product = account.product[a];
    if (product === 0 || product === 2) transacting.push(a);
    if (product === 0 || product === 1) paying.push(a);
  }
  const everyAccount = Array.from({ length: nA }, (_, a) => a);

  return {
    seed,
    businessDate,
    businessDay,
    compactDate: businessDate.replace(/-/g, ''),
    sizes,
    currencies,
    rates,
    customer,
    account,
    accountIds: Array.from({ length: nA }, (_, a) => accountId(a)),
    transacting: Int32Array.from(transacting.length > 0 ? transacting : everyAccount),
    paying: Int32Array.from(paying.length > 0 ? paying : everyAccount),
    specials,
  };
}

function sample(random: Random, values: readonly number[], count: number): number[] {
  const pool = [...values];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + random.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

function customerId(i: number): string {
  return `C${pad(1_000_000 + i, 10)}`;
}

function accountId(a: number): string {
  return `A${pad(10_000_000 + a, 10)}`;
}

// ---------------------------------------------------------------------------------------------
// Feed renderers: each fills the reused `fields` array for line i (values already CSV-encoded)
// and returns the control column's value as an integer at the column's scale.

interface FeedRenderer {
  spec: FeedSpec;
  rows: number;
  render(i: number, fields: string[]): number;
  id(i: number): string;
  isProtected(i: number): boolean;
  /** Column indexes targeted by defects; a missing target means the kind does not apply. */
  targets: { id: number; currency?: number; date?: number; timestamp?: number; text?: number };
}

/** Column indexes by name, checked against the catalog so a catalog change fails loudly here. */
function columnsOf<const N extends string>(feed: FeedName, names: readonly N[]): { spec: FeedSpec; col: Record<N, number> } {
  const spec = feedSpec(feed);
  const actual = spec.columns.map((c) => c.name);
  if (actual.join(',') !== names.join(',')) {
    throw new Error(`generator for ${feed} writes ${names.join(',')} but the catalog has ${actual.join(',')}`);
  }
  const col = Object.fromEntries(names.map((name, i) => [name, i])) as Record<N, number>;
  return { spec, col };
}

function customersFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('customers', [
    'customer_id', 'full_name', 'email', 'date_of_birth', 'country', 'segment', 'channel', 'onboarding_stage',
    'kyc_status', 'onboarded_at',
  ]);
  const random = new Random(world.seed, 'customers');
  const segments = new Weighted<string>([['RETAIL', 85], ['SME', 12], ['PRIVATE', 3]]);
  const { customer } = world;
  return {
    spec,
    rows: world.sizes.customers,
    id: customerId,
    isProtected: (i) => customer.protected.has(i),
    targets: { id: col.customer_id, date: col.date_of_birth, text: col.full_name },
    render(i, f) {
      const first = random.pick(FIRST_NAMES);
      const last = random.pick(LAST_NAMES);
      const stage = customer.stage[i]!;
      f[col.customer_id] = customerId(i);
      f[col.full_name] = `${first} ${last}`;
      f[col.email] = random.chance(0.9)
        ? `${emailSlug(first)}.${emailSlug(last)}${random.chance(0.4) ? random.int(100) : ''}@${random.pick(EMAIL_DOMAINS)}`
        : '';
      f[col.date_of_birth] = dateOf(world.businessDay - 18 * 365 - random.int(70 * 365));
      f[col.country] = COUNTRIES.pick(random);
      f[col.segment] = segments.pick(random);
      f[col.channel] = CUSTOMER_CHANNELS[customer.channel[i]!]!;
      f[col.onboarding_stage] = STAGES[stage]!;
      f[col.kyc_status] = stage < 2 ? 'PENDING' : stage === 2 && random.chance(0.2) ? 'REJECTED' : 'VERIFIED';
      f[col.onboarded_at] = `${dateOf(customer.onboardedDay[i]!)}T${timeOf(customer.onboardedSecond[i]!)}Z`;
      return 0;
    },
  };
}

function accountsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('accounts', [
    'account_id', 'customer_id', 'iban', 'product', 'currency', 'status', 'opened_on', 'opening_balance',
  ]);
  const random = new Random(world.seed, 'accounts');
  const { account } = world;
  return {
    spec,
    rows: world.sizes.accounts,
    id: accountId,
    isProtected: (a) => account.protected.has(a),
    targets: { id: col.account_id, currency: col.currency, date: col.opened_on },
    render(a, f) {
      const product = account.product[a]!;
      const status = account.status[a]!;
      const rate = world.rates[account.currency[a]!]!;
      let eurCents: number;
      if (status === 2 || account.openedDay[a] === world.businessDay) eurCents = 0;
      else if (product === 0) eurCents = random.chance(0.08) ? -random.int(300_000) : Math.round(random.skewed(250_000, 1.1));
      else if (product === 1) eurCents = Math.round(random.skewed(1_200_000, 1.3));
      else if (product === 2) eurCents = random.chance(0.3) ? 0 : -random.int(500_000);
      else eurCents = -Math.round(random.skewed(4_000_000, 1));
      const balance = inMinorUnits(Math.round((eurCents * 100_000_000) / rate), world.currencies[account.currency[a]!]!);
      f[col.account_id] = accountId(a);
      f[col.customer_id] = customerId(account.owner[a]!);
      f[col.iban] = iban('DE', `50099877${pad((a * 7919 + 1_000_003) % 10_000_000_000, 10)}`);
      f[col.product] = PRODUCTS[product]!;
      f[col.currency] = world.currencies[account.currency[a]!]!;
      f[col.status] = ACCOUNT_STATUSES[status]!;
      f[col.opened_on] = dateOf(account.openedDay[a]!);
      f[col.opening_balance] = cents(balance);
      return balance;
    },
  };
}

function transactionsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('transactions', [
    'txn_id', 'account_id', 'booked_at', 'value_date', 'direction', 'amount', 'currency', 'channel',
    'merchant_category', 'description',
  ]);
  const random = new Random(world.seed, 'transactions');
  const channels = new Weighted<'POS' | 'ONLINE' | 'ATM' | 'BRANCH'>([['POS', 55], ['ONLINE', 22], ['ATM', 15], ['BRANCH', 8]]);
  const stamps = Array.from({ length: 86_400 }, (_, s) => `${world.businessDate}T${timeOf(s)}Z`);
  const valueDates = [world.businessDate, addDays(world.businessDate, 1), addDays(world.businessDate, 2)];
  const eur = world.currencies.indexOf('EUR');
  const busy = Math.max(1, Math.floor(world.transacting.length / 20));
  const id = (i: number) => `T${world.compactDate}${pad(i + 1, 8)}`;
  return {
    spec,
    rows: world.sizes.transactions,
    id,
    isProtected: (i) => world.specials.has(i),
    targets: { id: col.txn_id, currency: col.currency, date: col.value_date, text: col.description },
    render(i, f) {
      f[col.txn_id] = id(i);
      const special = world.specials.get(i);
      if (special) {
        f[col.account_id] = world.accountIds[special.account]!;
        f[col.booked_at] = stamps[special.second]!;
        f[col.value_date] = world.businessDate;
        f[col.direction] = special.direction;
        f[col.amount] = cents(special.amountCents);
        f[col.currency] = 'EUR';
        f[col.channel] = special.channel;
        f[col.merchant_category] = special.channel === 'ATM' ? '6011' : '';
        f[col.description] = special.description;
        return special.amountCents;
      }
      // A twentieth of the accounts carries a third of the activity.
      const account = random.chance(0.33) ? world.transacting[random.int(busy)]! : world.transacting[random.int(world.transacting.length)]!;
      const channel = channels.pick(random);
      let direction: 'DEBIT' | 'CREDIT' = 'DEBIT';
      let eurCents: number;
      let mcc = '';
      let description: string;
      let second = daySecond(random);
      switch (channel) {
        case 'POS': {
          const [code, merchant] = random.pick(MERCHANTS);
          mcc = code;
          direction = random.chance(0.03) ? 'CREDIT' : 'DEBIT';
          eurCents = Math.round(random.skewed(2_500, 1));
          const city = random.pick(CITIES);
          description = random.chance(0.03) ? csvText(`${merchant}, ${city}`) : `${merchant} ${city}`;
          break;
        }
        case 'ONLINE': {
          if (random.chance(0.35)) {
            direction = 'CREDIT';
            description = random.pick(['Salary', 'Transfer from savings', 'Refund', 'Rent share']);
            eurCents = Math.round(random.skewed(60_000, 1));
          } else {
            const [code, merchant] = random.pick(ONLINE_MERCHANTS);
            mcc = code;
            description = merchant;
            eurCents = Math.round(random.skewed(4_500, 1.1));
          }
          break;
        }
        case 'ATM': {
          mcc = '6011';
          if (random.chance(0.1)) {
            direction = 'CREDIT';
            description = 'ATM cash deposit';
            eurCents = random.between(5, 300) * 1000;
          } else {
            description = 'ATM withdrawal';
            eurCents = random.between(1, 25) * 2000;
          }
          break;
        }
        case 'BRANCH': {
          direction = random.chance(0.6) ? 'CREDIT' : 'DEBIT';
          description = direction === 'CREDIT' ? random.pick(['Cash deposit', 'Cheque deposit']) : 'Cash withdrawal';
          eurCents = Math.round(random.skewed(40_000, 0.9));
          second = random.between(9 * 3600, 17 * 3600 - 1);
          break;
        }
      }
      // Ordinary activity stays below the alert bands; alerts come from the planted patterns.
      eurCents = Math.min(Math.max(eurCents, 100), 799_999);
      const accountCurrency = world.account.currency[account]!;
      const currency = channel === 'POS' && random.chance(0.05) ? random.int(world.currencies.length) : accountCurrency;
      const amount =
        currency === eur ? eurCents : inMinorUnits(Math.max(1, Math.round((eurCents * 100_000_000) / world.rates[currency]!)), world.currencies[currency]!);
      f[col.account_id] = world.accountIds[account]!;
      f[col.booked_at] = stamps[second]!;
      const v = random.next();
      f[col.value_date] = valueDates[v < 0.9 ? 0 : v < 0.98 ? 1 : 2]!;
      f[col.direction] = direction;
      f[col.amount] = cents(amount);
      f[col.currency] = world.currencies[currency]!;
      f[col.channel] = channel;
      f[col.merchant_category] = mcc;
      f[col.description] = random.chance(0.05) ? '' : description;
      return amount;
    },
  };
}

function paymentsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('payments', [
    'payment_id', 'debtor_account_id', 'creditor_iban', 'creditor_name', 'rail', 'status', 'amount', 'currency',
    'initiated_at', 'settled_at',
  ]);
  const random = new Random(world.seed, 'payments');
  const rails = new Weighted<string>([['SEPA_SCT', 55], ['SEPA_INST', 24], ['INTERNAL', 10], ['SWIFT', 8], ['TARGET2', 3]]);
  const statuses = new Weighted<string>([['SETTLED', 85], ['PENDING', 10], ['REJECTED', 3], ['RETURNED', 2]]);
  const swiftCurrencies = ['USD', 'GBP', 'CHF', 'JPY', 'CAD', 'AUD', 'SGD', 'SEK', 'NOK'].filter((c) => world.currencies.includes(c));
  const nextDay = addDays(world.businessDate, 1);
  const id = (i: number) => `P${world.compactDate}${pad(i + 1, 8)}`;
  const stamp = (second: number) =>
    second < 86_400 ? `${world.businessDate}T${timeOf(second)}Z` : `${nextDay}T${timeOf(Math.min(second - 86_400, 86_399))}Z`;
  return {
    spec,
    rows: world.sizes.payments,
    id,
    isProtected: () => false,
    targets: { id: col.payment_id, currency: col.currency, timestamp: col.initiated_at, text: col.creditor_name },
    render(i, f) {
      const rail = rails.pick(random);
      const status = statuses.pick(random);
      let currency = 'EUR';
      let eurCents: number;
      let settleDelay: number;
      switch (rail) {
        case 'SEPA_INST':
          eurCents = Math.min(Math.round(random.skewed(8_000, 1)), 999_999);
          settleDelay = random.between(1, 10);
          break;
        case 'INTERNAL':
          eurCents = Math.min(Math.round(random.skewed(50_000, 1.2)), 799_999);
          settleDelay = random.int(5);
          break;
        case 'SWIFT':
          currency = swiftCurrencies.length > 0 ? random.pick(swiftCurrencies) : 'EUR';
          eurCents = Math.round(random.skewed(1_500_000, 1.2));
          settleDelay = random.between(3600, 36_000);
          break;
        case 'TARGET2':
          eurCents = random.between(50_000, 5_000_000) * 100;
          settleDelay = random.between(5, 600);
          break;
        default:
          eurCents = Math.min(Math.round(random.skewed(25_000, 1.1)), 799_999);
          settleDelay = random.between(600, 7200);
      }
      const currencyIndex = world.currencies.indexOf(currency);
      const amount =
        currency === 'EUR' ? Math.max(eurCents, 1) : inMinorUnits(Math.max(1, Math.round((eurCents * 100_000_000) / world.rates[currencyIndex]!)), currency);
      const initiated = daySecond(random);
      let creditor: string;
      const kind = random.next();
      if (kind < 0.55) creditor = personName(random);
      else if (kind < 0.75) creditor = `${random.pick(UTILITIES)} ${random.pick(COMPANY_FORMS)}`;
      else if (kind < 0.97) creditor = `${random.pick(LAST_NAMES)} ${random.pick(COMPANY_TRADES)} ${random.pick(COMPANY_FORMS)}`;
      else creditor = `${random.pick(LAST_NAMES)}, ${random.pick(LAST_NAMES)} & Partner`;
      f[col.payment_id] = id(i);
      f[col.debtor_account_id] = world.accountIds[world.paying[random.int(world.paying.length)]!]!;
      f[col.creditor_iban] = randomIban(random);
      f[col.creditor_name] = csvText(creditor);
      f[col.rail] = rail;
      f[col.status] = status;
      f[col.amount] = cents(amount);
      f[col.currency] = currency;
      f[col.initiated_at] = stamp(initiated);
      f[col.settled_at] = status === 'SETTLED' || status === 'RETURNED' ? stamp(initiated + settleDelay) : '';
      return amount;
    },
  };
}

function fxRatesFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('fx_rates', ['currency', 'rate_date', 'rate', 'source']);
  return {
    spec,
    rows: world.currencies.length,
    id: (i) => world.currencies[i]!,
    isProtected: () => true,
    targets: { id: col.currency },
    render(i, f) {
      const rate = world.rates[i]!;
      f[col.currency] = world.currencies[i]!;
      f[col.rate_date] = world.businessDate;
      f[col.rate] = formatScaledDecimal(BigInt(rate), 8);
      f[col.source] = world.currencies[i] === 'EUR' ? 'REPORTING_CURRENCY' : 'ECB';
      return rate;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Writing: lines are joined into large chunks, hashed and written with backpressure.

const LINES_PER_CHUNK = 8192;

async function writeFeed(
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
async function writeLines(
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

const BAD_DATES = ['2026-02-30', '2025-04-31', '2025-13-01', 'yesterday', '31/12/2025', '20251201'] as const;
const BAD_TIMESTAMPS = ['2026-02-30T10:15:00Z', '2025-11-20T25:10:00Z', 'yesterday', '2025-11-20 10:15:00', '20/11/2025 10:15'] as const;

/** The line for `fields` with one defect; `fields` may be modified. `original`: the line a duplicate repeats. */
function injectDefect(kind: DefectKind, fields: string[], renderer: FeedRenderer, random: Random, original: number): string {
  const { targets } = renderer;
  switch (kind) {
    case 'malformed-row':
      if (random.chance(0.5) || targets.text === undefined) return fields.slice(0, -1).join(',');
      // An unescaped comma in a text field: one field too many.
      fields[targets.text] = `${unquoted(fields[targets.text]!)}, ${random.pick(CITIES)}`;
      return fields.join(',');
    case 'unknown-currency':
      fields[targets.currency!] = random.pick(UNKNOWN_CURRENCIES);
      return fields.join(',');
    case 'bad-date':
      if (targets.date !== undefined) fields[targets.date] = random.pick(BAD_DATES);
      else fields[targets.timestamp!] = random.pick(BAD_TIMESTAMPS);
      return fields.join(',');
    case 'duplicate-id':
      fields[targets.id] = renderer.id(original);
      return fields.join(',');
    case 'broken-quoting': {
      // An unescaped quote inside a text field (never at its start), as in `Bar "Anker`.
      const text = unquoted(fields[targets.text!]!).replace(/,/g, '') || 'Bar Anker';
      const space = text.indexOf(' ');
      const at = space > 0 ? space + 1 : 1;
      fields[targets.text!] = `${text.slice(0, at)}"${text.slice(at)}`;
      return fields.join(',');
    }
  }
}

function unquoted(field: string): string {
  return field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
}

class ChunkWriter {
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
