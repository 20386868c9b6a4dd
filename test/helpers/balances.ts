import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { CURRENCY_MINOR_UNITS } from '../../src/domain/feeds/catalog';
import { splitQuotedLine } from '../../src/domain/feeds/schemas';
import { parseScaledDecimal, formatScaledDecimal } from '../../src/domain/feeds/trailer';
import type { RunManifest } from '../../src/domain/pipeline';

/**
 * An independent recomputation of a night's end-of-day credits and debits from the raw feeds and
 * the rejects, in exact integers: every transaction posted at amount × rate(C) ÷ rate(A), rounded
 * once half-up to the account currency's minor unit (docs/spark-jobs.md, "Money").
 */
type Row = Record<string, string>;

async function csvDataset(uri: string): Promise<Row[]> {
  const dir = fileURLToPath(uri);
  const parts = (await fs.readdir(dir)).filter((f) => f.startsWith('part-') && f.endsWith('.csv')).sort();
  const rows: Row[] = [];
  for (const part of parts) rows.push(...(parse(await fs.readFile(path.join(dir, part), 'utf8'), { columns: true }) as Row[]));
  return rows;
}

/** The accepted rows of a raw feed: every data line whose number is not among the rejects. */
async function acceptedRows(manifest: RunManifest, feed: string): Promise<Row[]> {
  const entry = manifest.feeds.find((f) => f.feed === feed)!;
  const rejected = new Set((await csvDataset(entry.rejectsUri!)).map((r) => Number(r.line_no)));
  const lines = (await fs.readFile(fileURLToPath(entry.rawUri!), 'utf8')).split('\n').map((l) => l.replace(/\r$/, ''));
  const header = lines[0]!.split(',');
  const rows: Row[] = [];
  // Physical line `no` (1-based, the header is line 1) is lines[no - 1].
  for (let no = 2; no <= lines.length; no++) {
    const line = lines[no - 1]!;
    if (rejected.has(no) || line.startsWith('TRL,') || line === '') continue;
    // Split as the contract splits (a quote inside an unquoted description is text).
    const fields = line.includes('"') ? splitQuotedLine(line) : line.split(',');
    rows.push(Object.fromEntries(header.map((h, i) => [h, fields[i]!])));
  }
  return rows;
}

/** Half-up of n / d for n >= 0, d > 0. */
const halfUp = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);

export interface BalanceCheck {
  readonly accounts: number;
  readonly crossCurrencyPostings: number;
  readonly mismatches: readonly string[];
}

/** Compares the night's `eod_balances` dataset with the recomputation, account by account. */
export async function checkBalances(manifest: RunManifest, eodBalancesUri: string, reportingCurrency = 'EUR'): Promise<BalanceCheck> {
  const rates = new Map<string, bigint>([[reportingCurrency, 100_000_000n]]);
  for (const r of await acceptedRows(manifest, 'fx_rates')) if (r.currency !== reportingCurrency) rates.set(r.currency!, parseScaledDecimal(r.rate!, 8)!);
  const accountCurrency = new Map<string, string>();
  for (const a of await acceptedRows(manifest, 'accounts')) accountCurrency.set(a.account_id!, a.currency!);
  const sums = new Map<string, { credits: bigint; debits: bigint }>();
  let cross = 0;
  for (const t of await acceptedRows(manifest, 'transactions')) {
    const currency = accountCurrency.get(t.account_id!);
    if (currency === undefined) throw new Error(`accepted transaction ${t.txn_id} on ${t.account_id}, which is not an accepted account`);
    const cents = parseScaledDecimal(t.amount!, 2)!;
    let posted = cents;
    if (t.currency !== currency) {
      cross++;
      const decimals = BigInt(CURRENCY_MINOR_UNITS[currency] ?? 2);
      const units = halfUp(cents * rates.get(t.currency!)! * 10n ** decimals, 100n * rates.get(currency)!);
      posted = units * 10n ** (2n - decimals);
    }
    const sum = sums.get(t.account_id!) ?? { credits: 0n, debits: 0n };
    if (t.direction === 'CREDIT') sum.credits += posted;
    else sum.debits += posted;
    sums.set(t.account_id!, sum);
  }
  const mismatches: string[] = [];
  const reported = await csvDataset(eodBalancesUri);
  for (const row of reported) {
    const expected = sums.get(row.account_id!) ?? { credits: 0n, debits: 0n };
    const want = `${formatScaledDecimal(expected.credits, 2)}/${formatScaledDecimal(expected.debits, 2)}`;
    if (`${row.credits}/${row.debits}` !== want) mismatches.push(`${row.account_id} (${row.currency}): reported ${row.credits}/${row.debits}, expected ${want}`);
  }
  if (reported.length !== accountCurrency.size) mismatches.push(`${reported.length} balances for ${accountCurrency.size} accepted accounts`);
  return { accounts: reported.length, crossCurrencyPostings: cross, mismatches };
}
