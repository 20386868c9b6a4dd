import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './tools';

interface Exception {
  id: string;
  package: string;
  reason: string;
  reviewBy: string;
}
interface Advisory {
  source?: number;
  url?: string;
  title?: string;
  severity?: string;
}
interface AuditReport {
  vulnerabilities?: Record<string, { severity: string; via: (string | Advisory)[] }>;
  statusCode?: number;
  message?: string;
}

const exceptions = (JSON.parse(fs.readFileSync(path.join(REPO, 'deploy', 'audit-exceptions.json'), 'utf8')) as { exceptions: Exception[] }).exceptions;

const audit = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const report = ((): AuditReport => {
  try {
    return JSON.parse(audit.stdout) as AuditReport;
  } catch {
    return {};
  }
})();
/** The registry answers the audit endpoint with an error status (e.g. 405: a mirror without the audit API). */
const refused = report.vulnerabilities === undefined && typeof report.statusCode === 'number' ? `the registry refused the audit endpoint: ${report.message ?? `HTTP ${report.statusCode}`}` : undefined;

test('every audit exception has an id, a package, a reason and a review date not yet past', () => {
  const today = new Date().toISOString().slice(0, 10);
  for (const e of exceptions) {
    expect(e.id).toMatch(/^(GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}|https:\/\/\S+)$/);
    expect(e.package.length).toBeGreaterThan(0);
    expect(e.reason.length).toBeGreaterThan(20);
    expect(e.reviewBy).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(e.reviewBy >= today).toBe(true);
  }
});

(refused ? test.skip : test)(
  refused ? `npm audit of production dependencies: SKIPPED, ${refused}` : 'npm audit: no high or critical advisory in production dependencies beyond deploy/audit-exceptions.json',
  () => {
    expect(report.vulnerabilities).toBeDefined();
    const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => v.severity === 'high' || v.severity === 'critical');
    const unexplained: string[] = [];
    for (const [pkg, v] of serious) {
      const advisories = v.via.filter((a): a is Advisory => typeof a === 'object');
      // A package flagged only through a dependency ("via" names) is reported at that dependency.
      for (const a of advisories) {
        const id = a.url?.split('/').pop() ?? String(a.source);
        if (!exceptions.some((e) => e.package === pkg && (e.id === id || e.id === a.url))) unexplained.push(`${pkg}: ${a.severity ?? v.severity} ${a.title ?? ''} (${a.url ?? id})`);
      }
    }
    expect(unexplained).toEqual([]);
  },
);
