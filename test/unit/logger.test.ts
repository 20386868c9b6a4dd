import { Writable } from 'node:stream';
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
