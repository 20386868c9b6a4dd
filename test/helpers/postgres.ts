/** The PostgreSQL server the test command starts (scripts/postgres.sh); never silently skipped. */
export function requirePostgresUrl(): string {
  const url = process.env.NIGHTJAR_TEST_PG_URL;
  if (!url) {
    throw new Error('NIGHTJAR_TEST_PG_URL is not set: run `bash scripts/postgres.sh` (or `npm test`, which does) and export the URL it prints');
  }
  return url;
}
