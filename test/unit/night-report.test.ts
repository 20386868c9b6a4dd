import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { createFinalizeActivities } from '../../src/activities/finalize';
import { DataLayout } from '../../src/common/layout';
import type { RunManifest } from '../../src/domain/pipeline';
import { earlierManifests, ManifestUnreadable, readRunManifest } from '../../src/night-report/manifests';
import { amountFields, reconciles, renderNightReport } from '../../src/night-report/render';
import { durationWords, stackedBars, timeline } from '../../src/night-report/charts';
import type { ReportingStore } from '../../src/reporting/store';
import { cancelledNight, completedNight, failedNight, repairedNight } from '../helpers/manifests';

const DATE = '2026-11-20';

/** Every reference a page could make to something outside itself. */
const EXTERNAL = /<script|<link|<img|<iframe|<object|<embed|@import|url\(\s*['"]?(?!#)|\b(?:src|href)\s*=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i;

describe('renderNightReport', () => {
  test('a completed night: feeds reconcile, the out-of-memory attempt reads as such, sizing, reports and the status are there', () => {
    const html = renderNightReport(completedNight(DATE));
    expect(html).toContain('<h1>Night of 2026-11-20: <span class="status completed">COMPLETED</span></h1>');
    expect(html).toMatch(/<caption>Feeds and their reconciliation against the trailer control record<\/caption>/);
    // transactions: 20,000 in, 46 rejected, reconciled on both counts.
    expect(html).toMatch(/<td>transactions<\/td><td>INGESTED<\/td><td class="num">20,000<\/td><td class="num">19,954<\/td><td class="num">46<\/td><td><span class="ok">✓ yes<\/span><\/td><td class="num">20,000<\/td><td><span class="ok">✓ yes<\/span><\/td>/);
    // The first normalize attempt is an out-of-memory bar (hatched), labelled in words; never a success.
    expect(html).toMatch(/<rect [^>]*class="bar out-of-memory" fill="url\(#steps-chart-hatch\)"><title>normalize 1: out of memory \(executor\)/);
    expect(html).toContain('<span class="outcome out-of-memory">out of memory (executor)</span>');
    expect(html).toContain('executors lost: 2 × OOMKilled (exit 137)');
    expect(html).toContain('<caption>What each Spark job started from, ended with, and what the next night starts from</caption>');
    expect(html).toMatch(/<td><code>eod_account_balances<\/code><\/td><td class="num">4,000<\/td>/);
    expect(html).toContain('No step needed a decision.');
  });

  test('reject reasons per feed are a chart with a title and description for assistive technology, and the same numbers in a table', () => {
    const html = renderNightReport(completedNight(DATE));
    expect(html).toMatch(/<svg [^>]*role="img" aria-labelledby="rejects-chart-title rejects-chart-desc"/);
    expect(html).toContain('<title id="rejects-chart-title">Rejected rows per feed, by reason</title>');
    expect(html).toMatch(/<desc id="rejects-chart-desc">[^<]*transactions: UNKNOWN_CURRENCY 31, INVALID_FORMAT 12, DUPLICATE_KEY 3/);
    expect(html).toMatch(/<td>transactions<\/td><td><code>UNKNOWN_CURRENCY<\/code><\/td><td class="num">31<\/td><td class="num">0.15 %<\/td>/);
    // accounts and fx_rates have no rejects: no bar for them.
    expect(html).not.toMatch(/<text [^>]*class="label">accounts<\/text>/);
  });

  test('the page is self-contained: no script, no stylesheet, font or image from anywhere, and a policy forbidding fetches', () => {
    for (const m of [completedNight(DATE), repairedNight(DATE), failedNight(DATE), cancelledNight(DATE)]) {
      const html = renderNightReport(m, [completedNight('2026-11-19')]);
      expect(html).not.toMatch(EXTERNAL);
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
      expect(html).toContain('@media print');
      expect(html).toContain('<html lang="en">');
    }
  });

  test('the four endings read as what they are', () => {
    expect(renderNightReport(repairedNight(DATE))).toMatch(/<td>[^<]+<\/td><td>ingest \(payments\)<\/td><td><code>FeedRejected<\/code> payments.csv: trailer count 6001, file has 6000 records<\/td><td><strong>retry<\/strong><\/td><td>ops-jane<\/td><td>corrected file delivered<\/td>/);
    expect(renderNightReport(repairedNight(DATE))).toContain('ingest (round 2)');
    const failed = renderNightReport(failedNight(DATE));
    expect(failed).toContain('<span class="status failed">FAILED</span>');
    expect(failed).toContain('<h2 id="error-h">What went wrong</h2><p><strong>transform</strong> failed with <code>SparkOutOfMemory</code>');
    expect(failed).toContain('No report was exported.');
    const cancelled = renderNightReport(cancelledNight(DATE));
    expect(cancelled).toContain('<span class="status cancelled">CANCELLED</span>');
    expect(cancelled).toContain('<span class="outcome cancelled">cancelled</span>');
  });

  test("a Kubernetes attempt's pods are listed in its row, the failed ones marked", () => {
    const night = completedNight(DATE);
    const steps = night.steps.map((s) =>
      s.step !== 'normalize'
        ? s
        : { ...s, attempts: s.attempts.map((a, i) => (i > 0 ? a : { ...a, pods: [{ role: 'driver' as const, name: 'd-1', node: 'kwok-a1', phase: 'Running' }, { role: 'executor' as const, name: 'e-<1>', node: 'kwok-b1', phase: 'Failed', exitCode: 137, reason: 'OOMKilled' }], podsOmitted: 4 })) },
    );
    const html = renderNightReport({ ...night, steps });
    expect(html).toContain('<th scope="col">Pods (Kubernetes)</th>');
    expect(html).toContain('driver d-1 on kwok-a1: Running<br><span class="bad">executor e-&lt;1&gt; on kwok-b1: Failed, exit 137 OOMKilled</span><br>… and 4 more');
  });

  test('text from the manifest is escaped, never markup', () => {
    const m: RunManifest = { ...failedNight(DATE), error: { step: 'ingest', type: 'FeedRejected', message: '<script>alert(1)</script> & "quotes"' } };
    const html = renderNightReport(m);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toContain('<script>');
  });

  test('trends show the earlier nights (at most N, oldest first) and this one, ignoring later dates', () => {
    const earlier = ['2026-11-12', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-21'].map((d, i) => completedNight(d, 0.8 + i * 0.05));
    const html = renderNightReport(completedNight(DATE), earlier, { trendNights: 3 });
    const trend = html.slice(html.indexOf('<table id="trends">'));
    const dates = [...trend.matchAll(/<tr><td>(\d{4}-\d{2}-\d{2})<\/td>/g)].map((m) => m[1]);
    expect(dates).toEqual(['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
    expect(html).toMatch(/<rect [^>]*class="trend current"><title>2026-11-20: 33,030<\/title>/);
    expect(renderNightReport(completedNight(DATE))).toContain('No earlier night in this data directory to compare with.');
  });

  test('money amounts a feed entry may carry are shown when present, as columns named after them', () => {
    const m = completedNight(DATE);
    const withAmounts = { ...m, feeds: m.feeds.map((f) => ({ ...f, acceptedAmount: '1234.50', rejectedAmount: '10.00' })) } as RunManifest;
    expect(amountFields(withAmounts.feeds)).toEqual(['acceptedAmount', 'rejectedAmount']);
    const html = renderNightReport(withAmounts);
    expect(html).toContain('<th scope="col" class="num">accepted amount</th><th scope="col" class="num">rejected amount</th>');
    expect(html).toMatch(/<td class="num">1234.50<\/td><td class="num">10.00<\/td>/);
    expect(amountFields(m.feeds)).toEqual([]);
  });

  test('reconciliation flags a feed whose rows do not add up or differ from the trailer', () => {
    const f = completedNight(DATE).feeds[0]!;
    expect(reconciles(f)).toEqual({ split: true, control: true });
    expect(reconciles({ ...f, rowsAccepted: f.rowsAccepted - 1 })).toEqual({ split: false, control: true });
    expect(reconciles({ ...f, controlCount: f.controlCount + 1 })).toEqual({ split: true, control: false });
    const bad = renderNightReport({ ...completedNight(DATE), feeds: [{ ...f, controlCount: f.controlCount + 1 }] });
    expect(bad).toContain('<span class="bad">✗ NO</span>');
  });
});

describe('charts', () => {
  test('stacked bars scale to the largest row and colour each reason the same way in every row', () => {
    const svg = stackedBars({ id: 'c', title: 't', description: 'd' }, [
      { label: 'a', segments: [{ key: 'X', value: 10 }, { key: 'Y', value: 30 }] },
      { label: 'b', segments: [{ key: 'X', value: 20 }] },
    ]);
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="18" fill="(#[0-9A-F]{6})"/g)].map((m) => [Number(m[1]), m[2]]);
    expect(widths).toEqual([
      [105, '#0072B2'],
      [315, '#D55E00'],
      [210, '#0072B2'],
    ]);
  });

  test('a timeline places bars by time within the span', () => {
    const svg = timeline({ id: 't', title: 't', description: 'd' }, [{ label: 's', bars: [{ from: 50, to: 100, outcome: 'succeeded', label: 'x', short: 'ok' }] }], { from: 0, to: 100 });
    expect(svg).toMatch(/<rect x="390" y="\d+" width="280" height="20" class="bar succeeded">/);
  });

  test('durations read as people say them', () => {
    expect(durationWords(4_200)).toBe('4.2 s');
    expect(durationWords(185_000)).toBe('3 min 5 s');
    expect(durationWords(3_720_000)).toBe('1 h 2 min');
  });
});

describe('manifests on disk and finalizeRun', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightjar-report-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('earlier manifests are read newest first, skipping later dates, unreadable files and other folders', async () => {
    const layout = new DataLayout(dataDir);
    for (const d of ['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-21']) {
      fs.mkdirSync(layout.runDir(d), { recursive: true });
      fs.writeFileSync(layout.manifestFile(d), JSON.stringify(completedNight(d)));
    }
    fs.writeFileSync(layout.manifestFile('2026-11-18'), '{not json');
    fs.mkdirSync(path.join(dataDir, 'runs', 'scratch'));
    expect((await earlierManifests(layout, DATE, 5)).map((m) => m.businessDate)).toEqual(['2026-11-19', '2026-11-17']);
    expect(await readRunManifest(layout.manifestFile('2026-11-01'))).toBeUndefined();
    await expect(readRunManifest(layout.manifestFile('2026-11-18'))).rejects.toBeInstanceOf(ManifestUnreadable);
  });

  test('finalizeRun writes report.html beside the manifest, for a failed night too, with trends from earlier manifests', async () => {
    const layout = new DataLayout(dataDir);
    fs.mkdirSync(layout.runDir('2026-11-19'), { recursive: true });
    fs.writeFileSync(layout.manifestFile('2026-11-19'), JSON.stringify(completedNight('2026-11-19')));
    const store = {
      kind: 'pglite',
      replaceBusinessDate: async (_d: string, loads: readonly { spec: { name: string }; expectedRows: number }[]) => loads.map((l) => ({ table: l.spec.name, rows: l.expectedRows })),
    } as unknown as ReportingStore;
    const { finalizeRun } = createFinalizeActivities({ layout, store, logger: pino({ level: 'silent' }) });
    const finalized = await finalizeRun({ manifest: failedNight(DATE) });
    expect(finalized.reportUri).toBe(pathToFileURL(layout.reportFile(DATE)).href);
    const html = fs.readFileSync(layout.reportFile(DATE), 'utf8');
    expect(path.dirname(layout.reportFile(DATE))).toBe(path.dirname(layout.manifestFile(DATE)));
    expect(html).toContain('<span class="status failed">FAILED</span>');
    // The operational reports finalize wrote are in the page too.
    expect(html).toMatch(/<code>feed_quality<\/code><\/td><td class="num">5<\/td>/);
    expect(html).toMatch(/<tr><td>2026-11-19<\/td><td>COMPLETED<\/td>/);
  });
});
