import { Random } from './random';
import type { FeedRenderer } from './renderer';
import { CITIES, UNKNOWN_CURRENCIES } from './vocabulary';

// Defects: one kind per damaged line, each rejected by the normalize job with its own reason.

/** The kinds of defect the generator injects into data lines, each rejected by normalize with its own reason. */
export const DEFECT_KINDS = ['malformed-row', 'unknown-currency', 'bad-date', 'duplicate-id', 'broken-quoting'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

export const BAD_DATES = ['2026-02-30', '2025-04-31', '2025-13-01', 'yesterday', '31/12/2025', '20251201'] as const;
export const BAD_TIMESTAMPS = ['2026-02-30T10:15:00Z', '2025-11-20T25:10:00Z', 'yesterday', '2025-11-20 10:15:00', '20/11/2025 10:15'] as const;

/** The line for `fields` with one defect; `fields` may be modified. `original`: the line a duplicate repeats. */
export function injectDefect(kind: DefectKind, fields: string[], renderer: FeedRenderer, random: Random, original: number): string {
  const { targets } = renderer;
  switch (kind) {
    case 'malformed-row':
      if (random.chance(0.5) || targets.text === undefined) return fields.slice(0, -1).join(',');
      // An unescaped comma in a text field: one field too many.
      fields[targets.text] = `${unquoted(fields[targets.text]!)}, ${random.pick(CITIES)}`;
      return fields.join(',');
    case 'unknown-currency':
      fields[targets.currency!] = random.pick(UNKNOWN_CURRENCIES);
      return fields.join(',');
    case 'bad-date':
      if (targets.date !== undefined) fields[targets.date] = random.pick(BAD_DATES);
      else fields[targets.timestamp!] = random.pick(BAD_TIMESTAMPS);
      return fields.join(',');
    case 'duplicate-id':
      fields[targets.id] = renderer.id(original);
      return fields.join(',');
    case 'broken-quoting': {
      // An unescaped quote inside a text field (never at its start), as in `Bar "Anker`.
      const text = unquoted(fields[targets.text!]!).replace(/,/g, '') || 'Bar Anker';
      const space = text.indexOf(' ');
      const at = space > 0 ? space + 1 : 1;
      fields[targets.text!] = `${text.slice(0, at)}"${text.slice(at)}`;
      return fields.join(',');
    }
  }
}

export function unquoted(field: string): string {
  return field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
}
