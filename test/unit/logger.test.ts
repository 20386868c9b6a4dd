import { Writable } from 'node:stream';
import { withLogContext } from '../../src/observability/log-context';
import { createLogger, PII_FIELDS } from '../../src/worker/logger';

function capture(redact: boolean) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', redact, destination }), lines };
}

test('personal data from the catalog is redacted at any depth', () => {
  expect(PII_FIELDS).toEqual(expect.arrayContaining(['full_name', 'email', 'iban', 'creditor_iban']));
  const { logger, lines } = capture(true);
  logger.info({ full_name: 'Ada Lovelace', row: { iban: 'DE89370400440532013000' }, rows: { x: { email: 'a@b.c' } }, feed: 'customers' }, 'bad row');
  const out = lines.join('');
  expect(out).not.toContain('Ada Lovelace');
  expect(out).not.toContain('DE89370400440532013000');
  expect(out).not.toContain('a@b.c');
  expect(out).toContain('[REDACTED]');
  expect(out).toContain('"feed":"customers"');
});

test('redaction can be switched off by configuration', () => {
  const { logger, lines } = capture(false);
  logger.info({ full_name: 'Ada Lovelace' }, 'debugging');
  expect(lines.join('')).toContain('Ada Lovelace');
});

describe('redaction at depth, secrets and connection URLs', () => {
  test('personal data is censored in nested objects and arrays, in snake and camel case', () => {
    const { logger, lines } = capture(true);
    logger.warn(
      {
        feed: 'customers',
        rejects: [{ line: 7, row: { full_name: 'Grace Hopper', contact: { email: 'grace@navy.example' } } }],
        deep: { a: { b: { c: { d: { creditorIban: 'FR7630006000011234567890189' } } } } },
        dateOfBirth: '1906-12-09',
      },
      'rows rejected',
    );
    const out = lines.join('');
    for (const value of ['Grace Hopper', 'grace@navy.example', 'FR7630006000011234567890189', '1906-12-09']) expect(out).not.toContain(value);
    const line = JSON.parse(out);
    expect(line.rejects[0].line).toBe(7);
    expect(line.rejects[0].row.full_name).toBe('[REDACTED]');
    expect(line.feed).toBe('customers');
  });

  test('tokens, passwords, authorization headers and URL passwords are censored, the rest of the URL kept', () => {
    const { logger, lines } = capture(true);
    logger.info(
      {
        headers: { authorization: 'Bearer s3cr3t-bearer-value', accept: 'application/json' },
        token: 'tok-1234567890abcdef',
        reporting: { url: 'postgres://nightjar:hunter2-pg@db.internal:5432/reports', password: 'hunter2-pg' },
      },
      'connecting to postgresql://admin:in-the-message@db.internal/reports',
    );
    const out = lines.join('');
    for (const secret of ['s3cr3t-bearer-value', 'tok-1234567890abcdef', 'hunter2-pg', 'in-the-message']) expect(out).not.toContain(secret);
    const line = JSON.parse(out);
    expect(line.reporting.url).toBe('postgres://nightjar:[REDACTED]@db.internal:5432/reports');
    expect(line.msg).toBe('connecting to postgresql://admin:[REDACTED]@db.internal/reports');
    expect(line.headers.accept).toBe('application/json');
  });

  test("an error's message loses URL passwords too", () => {
    const { logger, lines } = capture(true);
    logger.error({ err: new Error('connect ECONNREFUSED postgres://u:pw-in-error@10.0.0.1/db') }, 'store down');
    const out = lines.join('');
    expect(out).not.toContain('pw-in-error');
    expect(JSON.parse(out).err.message).toContain('postgres://u:[REDACTED]@10.0.0.1/db');
  });

  test('child-logger bindings are redacted as well', () => {
    const { logger, lines } = capture(true);
    logger.child({ email: 'bound@example.com' }).info('with bindings');
    expect(lines.join('')).not.toContain('bound@example.com');
  });
});

describe('activity context on every line', () => {
  test('lines written inside an activity context carry its fields; lines outside do not', async () => {
    const { logger, lines } = capture(true);
    const context = { workflowId: 'nightjar-daily-2026-11-20', runId: 'r1', step: 'ingestFeed', attempt: 3, businessDate: '2026-11-20', tenant: 'default' };
    await withLogContext(context, async () => {
      await Promise.resolve();
      logger.child({ component: 'activities' }).info({ feed: 'accounts', full_name: 'Ada Lovelace' }, 'feed ingested');
    });
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l));
    expect(inside).toMatchObject({ ...context, feed: 'accounts', component: 'activities', full_name: '[REDACTED]' });
    expect(outside).not.toHaveProperty('workflowId');
    expect(outside).not.toHaveProperty('step');
  });

  test("a line's own fields win over the context's", () => {
    const { logger, lines } = capture(true);
    withLogContext({ step: 'awaitSparkJob', attempt: 1, businessDate: '2026-11-20' }, () => logger.info({ attempt: 4 }, 'spark attempt'));
    expect(JSON.parse(lines[0] as string)).toMatchObject({ step: 'awaitSparkJob', attempt: 4, businessDate: '2026-11-20' });
  });
});
