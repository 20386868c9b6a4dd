import { tenantsNamed } from '../../src/worker/tenant-guard';

describe('the tenants an activity names', () => {
  test('from its input, its manifest and its workflow id (the night or a workflow it started)', () => {
    expect(tenantsNamed([{ businessDate: '2026-03-31', tenant: 'alpha' }], 'nightjar-daily-alpha-2026-03-31')).toEqual(['alpha']);
    expect(tenantsNamed([{ manifest: { tenant: 'beta' } }], undefined)).toEqual(['beta']);
    expect(tenantsNamed([{}], 'nightjar-daily-beta-2026-03-31-normalize-r2')).toEqual(['beta']);
    expect(tenantsNamed([{}], 'nightjar-daily-2026-03-31')).toEqual(['default']);
  });

  test('an input that disagrees with its workflow id names both, so neither can slip through', () => {
    expect(tenantsNamed([{ tenant: 'alpha' }], 'nightjar-daily-beta-2026-03-31').sort()).toEqual(['alpha', 'beta']);
  });

  test('tenant-less work (the janitor) names none', () => {
    expect(tenantsNamed([{ minAgeSeconds: 60 }], 'nightjar-spark-janitor-run-2026')).toEqual([]);
    expect(tenantsNamed([], undefined)).toEqual([]);
  });
});
