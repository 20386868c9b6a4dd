#!/usr/bin/env node
'use strict';
// Renders the fault matrix's results (.cache/reliability-report.json, written by
// test/reliability) as a markdown table for the README.
//
//   node scripts/reliability-report.js [results.json]
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2] ?? path.join(__dirname, '..', '.cache', 'reliability-report.json');
if (!fs.existsSync(file)) {
  console.error(`no results at ${file}: run the reliability tests first`);
  process.exit(2);
}
const rows = JSON.parse(fs.readFileSync(file, 'utf8'));
if (!Array.isArray(rows) || rows.length === 0) {
  console.error(`${file} holds no results`);
  process.exit(2);
}

// The order of the matrix, then anything else in the order it ran.
const ORDER = [
  'baseline',
  'worker SIGKILL during ingest',
  'worker SIGKILL during a Spark job',
  'worker SIGKILL mid-export',
  'Temporal server restart',
  'PostgreSQL unreachable',
  'Kubernetes API faults',
  'kube-apiserver restart',
  'etcd restart',
  'kube-scheduler down',
  'kube-controller-manager down',
  'driver node NotReady',
  'executor SIGKILL mid-job',
  'driver node lost',
  'cancel: waiting for feeds',
  'cancel: ingest',
  'cancel: normalize',
  'cancel: transform',
  'cancel: export',
  'forced re-run',
];
const rank = (fault) => {
  const i = ORDER.findIndex((prefix) => fault.startsWith(prefix));
  return i < 0 ? ORDER.length : i;
};
const sorted = rows
  .map((row, i) => ({ row, i }))
  .sort((a, b) => rank(a.row.fault) - rank(b.row.fault) || a.i - b.i)
  .map(({ row }) => row);

const cell = (v) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const header = ['fault', 'injected', 'completed', 'digests equal', 'duplicate submissions', 'leftovers', 'seconds', 'notes'];
const lines = [
  `| ${header.join(' | ')} |`,
  `|${header.map((h, i) => (i === 0 || i === header.length - 1 ? '---' : '---:')).join('|')}|`,
  ...sorted.map((r) =>
    `| ${[r.fault, r.injected, r.completed, r.digestsEqual, r.duplicateSubmissions, r.leftovers, r.seconds, r.notes ?? ''].map(cell).join(' | ')} |`,
  ),
];
const total = sorted.reduce((s, r) => s + (Number(r.seconds) || 0), 0);
const newest = sorted.map((r) => r.at).filter(Boolean).sort().pop();
lines.push('', `${sorted.length} runs, ${Math.round(total)} s in all${newest ? ` (latest ${newest.slice(0, 16).replace('T', ' ')} UTC)` : ''}. ` +
  'Cancellation rows: "completed" = manifest CANCELLED, "digests equal" = no report row of the date published, "leftovers" = objects + running drivers.');
process.stdout.write(`${lines.join('\n')}\n`);
