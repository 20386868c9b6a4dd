import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ciValues, DOCKERFILES, REPO, render, run, tempDir, tool } from './tools';

jest.setTimeout(180_000);

interface Skip {
  id: string;
  reason: string;
  /** Resource ids (Kind.namespace.name) ending with one of these; every resource when absent. */
  resources?: string[];
}
interface Finding {
  check_id: string;
  check_name: string;
  resource: string;
  file_path: string;
}
interface Report {
  check_type: string;
  results: { failed_checks: Finding[] };
  summary: { passed: number; failed: number; parsing_errors: number };
}

const WORK = tempDir('checkov');
const SKIPS_FILE = path.join(REPO, 'deploy', 'checkov-skips.yaml');
const skips = (parseYaml(fs.readFileSync(SKIPS_FILE, 'utf8')) as { skips: Skip[] }).skips;
const covers = (skip: Skip, finding: Finding) =>
  skip.id === finding.check_id && (skip.resources === undefined || skip.resources.some((suffix) => finding.resource.endsWith(suffix)));

test('every skip names a check and says why', () => {
  for (const skip of skips) {
    expect(skip.id).toMatch(/^CKV2?_[A-Z0-9]+_\d+$/);
    expect(skip.reason.length).toBeGreaterThan(40);
  }
});

test('checkov: the rendered chart (every CI values file) and both Dockerfiles fail no check but the documented skips, and every skip still fires', () => {
  const dir = WORK;
  // One namespace per values file, so checkov's resource ids tell the renderings apart.
  const manifests = ciValues().map(({ name, file }) => {
    const target = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(target, render(`tenant-${name}`, [file]).text);
    return target;
  });
  const result = run(tool('checkov'), [
    ...[...manifests, ...DOCKERFILES].flatMap((f) => ['--file', f]),
    '--framework', 'kubernetes', 'dockerfile',
    '--output', 'json', '--quiet', '--compact', '--skip-download',
  ]);
  // Exit code 1 means "findings"; anything else is checkov itself failing.
  expect({ status: result.status, stderr: result.status === 0 || result.status === 1 ? '' : result.stderr }).toEqual({ status: result.status === 0 ? 0 : 1, stderr: '' });
  const parsed = JSON.parse(result.stdout) as Report | Report[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  expect(reports.map((r) => r.check_type).sort()).toEqual(['dockerfile', 'kubernetes']);
  for (const report of reports) {
    expect(report.summary.parsing_errors).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(10);
  }
  const findings = reports.flatMap((r) => r.results.failed_checks);
  const unexplained = findings.filter((f) => !skips.some((s) => covers(s, f))).map((f) => `${f.check_id} ${f.check_name} on ${f.resource} (${path.basename(f.file_path)})`);
  const stale = skips.filter((s) => !findings.some((f) => covers(s, f))).map((s) => `${s.id}: no longer fires, remove it from deploy/checkov-skips.yaml`);
  expect({ unexplained, stale }).toEqual({ unexplained: [], stale: [] });
});
