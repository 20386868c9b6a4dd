import { feedSpec, type FeedName, type FeedSpec } from '../../src/domain/feeds/catalog';

// Feed renderers: each fills the reused `fields` array for line i (values already CSV-encoded)
// and returns the control column's value as an integer at the column's scale.

export interface FeedRenderer {
  spec: FeedSpec;
  rows: number;
  render(i: number, fields: string[]): number;
  id(i: number): string;
  isProtected(i: number): boolean;
  /** Column indexes targeted by defects; a missing target means the kind does not apply. */
  targets: { id: number; currency?: number; date?: number; timestamp?: number; text?: number };
}

/** Column indexes by name, checked against the catalog so a catalog change fails loudly here. */
export function columnsOf<const N extends string>(feed: FeedName, names: readonly N[]): { spec: FeedSpec; col: Record<N, number> } {
  const spec = feedSpec(feed);
  const actual = spec.columns.map((c) => c.name);
  if (actual.join(',') !== names.join(',')) {
    throw new Error(`generator for ${feed} writes ${names.join(',')} but the catalog has ${actual.join(',')}`);
  }
  const col = Object.fromEntries(names.map((name, i) => [name, i])) as Record<N, number>;
  return { spec, col };
}
