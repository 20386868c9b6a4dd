import { ConfigError, loadConfig } from '../../src/config/config';

const root = '/opt/nightjar';

test('defaults describe the embedded set-up: PGlite, local Spark, dev server', () => {
  const c = loadConfig({}, root);
  expect(c.dataDir).toBe('/opt/nightjar/.data');
  expect(c.reporting).toEqual({ kind: 'pglite', dataDir: '/opt/nightjar/.data/reporting/pglite' });
  expect(c.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'nightjar' });
  expect(c.spark.sparkSubmit).toBe('/opt/nightjar/.venv/bin/spark-submit');
  expect(c.spark.defaults.normalize.driverMemoryMb).toBe(1024);
  expect(c.log.redact).toBe(true);
});

test('numbers are coerced and validated', () => {
  const c = loadConfig({ NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '2048', NIGHTJAR_OOM_MEMORY_FACTOR: '1.5' }, root);
  expect(c.spark.defaults.transform.driverMemoryMb).toBe(2048);
  expect(c.spark.escalation.memoryFactor).toBe(1.5);
});

test('booleans are strict: "false" means false and a typo is an error naming the variable', () => {
  expect(loadConfig({ NIGHTJAR_LOG_REDACT: 'false' }, root).log.redact).toBe(false);
  expect(() => loadConfig({ NIGHTJAR_LOG_REDACT: 'flase' }, root)).toThrow(/NIGHTJAR_LOG_REDACT="flase": expected one of: true, false/);
});

test('every problem is reported at once, each naming its variable and value', () => {
  let error: unknown;
  try {
    loadConfig({ NIGHTJAR_SPARK_DRIVER_MEMORY_MB: '12', NIGHTJAR_REPORTING_STORE: 'oracle', NIGHTJAR_REPORTING_CURRENCY: 'euro' }, root);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect(problems).toHaveLength(3);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_SPARK_DRIVER_MEMORY_MB="12": must be at least 256 MiB/);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_REPORTING_STORE="oracle"/);
  expect(problems.join('\n')).toMatch(/NIGHTJAR_REPORTING_CURRENCY="euro": expected an ISO 4217 code/);
});

test('the PostgreSQL store needs a URL', () => {
  expect(() => loadConfig({ NIGHTJAR_REPORTING_STORE: 'postgres' }, root)).toThrow(/NIGHTJAR_REPORTING_PG_URL.*required when NIGHTJAR_REPORTING_STORE=postgres/);
  expect(loadConfig({ NIGHTJAR_REPORTING_STORE: 'postgres', NIGHTJAR_REPORTING_PG_URL: 'postgres://u:p@h/db' }, root).reporting).toEqual({
    kind: 'postgres',
    url: 'postgres://u:p@h/db',
  });
});
