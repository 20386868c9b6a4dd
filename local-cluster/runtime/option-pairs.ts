/**
 * The command lines of the local cluster's process entries (the runtime, the operator stand-in):
 * `--option value` pairs only, an option given more than once keeping its values in order.
 */

/** A bad command line: the entry prints it as one line and exits with 2. */
export class UsageError extends Error {}

export function optionPairs(argv: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i] ?? '';
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined) throw new UsageError(`expected --option value pairs, got ${JSON.stringify(key)}`);
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return values;
}
