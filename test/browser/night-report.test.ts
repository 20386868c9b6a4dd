/**
 * The night report in a real browser (Debian's Chromium, headless): for a completed, a parked then
 * repaired, a failed and a cancelled night, the page finalizeRun wrote shows what the night did,
 * reads well to assistive technology, prints, and asks nothing of the network. A screenshot of
 * each is kept under .cache/browser/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { createFinalizeActivities } from '../../src/activities/finalize';
import { DataLayout } from '../../src/common/layout';
import type { RunManifest } from '../../src/domain/pipeline';
import type { ReportingStore } from '../../src/reporting/store';
import { cancelledNight, completedNight, failedNight, repairedNight } from '../helpers/manifests';
import { ARTIFACTS, guardedPage, launchChromium } from './chromium';

jest.setTimeout(60_000);

const store = {
  kind: 'pglite',
  replaceBusinessDate: async (_date: string, loads: readonly { spec: { name: string }; expectedRows: number }[]) => loads.map((l) => ({ table: l.spec.name, rows: l.expectedRows })),
} as unknown as ReportingStore;

let browser: Browser;
let dataDir: string;
let layout: DataLayout;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-browser-'));
  layout = new DataLayout(dataDir);
  const { finalizeRun } = createFinalizeActivities({ layout, store, logger: pino({ level: 'silent' }) });
  // Earlier nights first, so each report has trends to show.
  for (const [i, date] of ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19'].entries()) await finalizeRun({ manifest: completedNight(date, 0.9 + i * 0.04) });
  const nights: RunManifest[] = [completedNight('2026-11-20'), repairedNight('2026-11-21'), failedNight('2026-11-22'), cancelledNight('2026-11-23')];
  for (const manifest of nights) await finalizeRun({ manifest });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Opens a night's report.html, checks that nothing left the page, keeps a screenshot. */
async function openReport(date: string, name: string) {
  const guarded = await guardedPage(browser);
  const { page } = guarded;
  await page.goto(pathToFileURL(layout.reportFile(date)).href, { waitUntil: 'load' });
  await page.screenshot({ path: path.join(ARTIFACTS, `night-report-${name}.png`), fullPage: true });
  return guarded;
}

async function expectSelfContained(guarded: Awaited<ReturnType<typeof openReport>>) {
  expect(guarded.leaks).toEqual([]);
  expect(guarded.errors).toEqual([]);
  // Everything the page holds came from the file itself.
  const resources = await guarded.page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
  expect(resources).toEqual([]);
  await guarded.page.context().close();
}

test('a completed night: headings, reconciled feeds, the reject chart named for assistive technology, the out-of-memory attempt, trends', async () => {
  const guarded = await openReport('2026-11-20', 'completed');
  const { page } = guarded;
  await expect(page.title()).resolves.toBe('Nightjar — night of 2026-11-20 (default): COMPLETED');
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Night of 2026-11-20: COMPLETED');
  expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual([
    'Feeds and reconciliation',
    'Reject reasons',
    'Steps and attempts',
    'Learned sizing',
    'Reports',
    'Operator decisions',
    'Trends of the last nights',
  ]);
  const feeds = page.getByRole('table', { name: 'Feeds and their reconciliation against the trailer control record' });
  const transactions = feeds.getByRole('row').filter({ hasText: 'transactions' });
  expect(await transactions.getByRole('cell').allInnerTexts()).toEqual(['transactions', 'INGESTED', '20,000', '19,954', '46', '✓ yes', '20,000', '✓ yes', '250000.00']);
  const chart = page.getByRole('img', { name: 'Rejected rows per feed, by reason' });
  await expect(chart.isVisible()).resolves.toBe(true);
  expect(await chart.getAttribute('aria-labelledby')).toBe('rejects-chart-title rejects-chart-desc');
  const attempts = page.getByRole('table', { name: 'Every attempt of every step, with its resources and outcome' });
  const oom = attempts.getByRole('row').filter({ hasText: 'out of memory (executor)' });
  expect(await oom.count()).toBe(1);
  // An out-of-memory attempt is not drawn like a success: hatched, not green.
  // (Run in the page: the casts stand in for the DOM types this Node project does not load.)
  const fillOf = (selector: string) => page.locator(selector).first().evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill);
  const oomFill = await fillOf('rect.bar.out-of-memory');
  const okFill = await fillOf('rect.bar.succeeded');
  expect(oomFill).toContain('url(');
  expect(okFill).toBe('rgb(11, 107, 47)');
  const trends = page.getByRole('table', { name: 'The last nights side by side, oldest first' });
  expect(await trends.getByRole('row').count()).toBe(6); // header + 4 earlier nights + this one
  await expectSelfContained(guarded);
});

test('a parked then repaired night: the refused ingest, the operator\'s retry with its reason, the second round', async () => {
  const guarded = await openReport('2026-11-21', 'repaired');
  const { page } = guarded;
  const decisions = page.getByRole('table', { name: 'Parked steps and what operators decided, in order' });
  const row = decisions.getByRole('row').nth(1);
  expect((await row.getByRole('cell').allInnerTexts()).slice(1)).toEqual([
    'ingest (payments)',
    'FeedRejected payments.csv: trailer count 6001, file has 6000 records',
    'retry',
    'ops-jane',
    'corrected file delivered',
  ]);
  expect(await page.locator('#steps-chart-title ~ text.label').allTextContents()).toEqual(expect.arrayContaining(['ingest', 'ingest (round 2)']));
  await expectSelfContained(guarded);
});

test('a failed night: what went wrong first, three out-of-memory attempts, no business report, and it prints', async () => {
  const guarded = await openReport('2026-11-22', 'failed');
  const { page } = guarded;
  expect(await page.getByRole('heading', { name: 'What went wrong' }).isVisible()).toBe(true);
  expect(await page.locator('.error p').innerText()).toBe('transform failed with SparkOutOfMemory: transform ran out of memory on attempt 3 and cannot grow: driver at its cap (4096 MiB)');
  const attempts = page.getByRole('table', { name: 'Every attempt of every step, with its resources and outcome' });
  expect(await attempts.getByRole('row').filter({ hasText: 'out of memory (driver)' }).count()).toBe(3);
  // Only the operational tables finalize writes for every night; no business report.
  const reports = page.getByRole('table', { name: 'Rows written to the reporting database, per table' });
  expect(await reports.getByRole('row').filter({ hasText: 'eod_account_balances' }).count()).toBe(0);
  // Printed: the print style takes over (no coloured badge), and the PDF is kept too.
  await page.emulateMedia({ media: 'print' });
  const background = await page.locator('.status').evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor);
  expect(background).toBe('rgba(0, 0, 0, 0)');
  const pdf = await page.pdf({ path: path.join(ARTIFACTS, 'night-report-failed.pdf'), format: 'A4' });
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  await expectSelfContained(guarded);
});

test('a cancelled night: its status, the cancelled attempt, and no business report', async () => {
  const guarded = await openReport('2026-11-23', 'cancelled');
  const { page } = guarded;
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Night of 2026-11-23: CANCELLED');
  const attempts = page.getByRole('table', { name: 'Every attempt of every step, with its resources and outcome' });
  expect(await attempts.getByRole('row').filter({ hasText: 'normalize' }).getByRole('cell').nth(3).innerText()).toBe('cancelled');
  const reports = page.getByRole('table', { name: 'Rows written to the reporting database, per table' });
  expect(await reports.getByRole('row').filter({ hasText: 'eod_account_balances' }).count()).toBe(0);
  await expectSelfContained(guarded);
});

test('a page that asks the network for something is caught: the guard is not a formality', async () => {
  const file = path.join(dataDir, 'leaky.html');
  fs.writeFileSync(file, '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://fonts.example.com/x.css"></head><body><img src="http://127.0.0.1:9/x.png" alt="x"></body></html>');
  const guarded = await guardedPage(browser);
  await guarded.page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  expect(guarded.leaks.sort()).toEqual(['http://127.0.0.1:9/x.png', 'https://fonts.example.com/x.css']);
  await guarded.page.context().close();
});
