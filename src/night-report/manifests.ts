/**
 * Reading run manifests back: the one a night wrote (for `status` of a closed night and the
 * report) and the earlier nights' (for the report's trends).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DataLayout } from '../common/layout';
import { isBusinessDate } from '../domain/business-date';
import type { RunManifest } from '../domain/pipeline';

/** A manifest file that exists but cannot be read as one; the message names the file. */
export class ManifestUnreadable extends Error {
  override readonly name = 'ManifestUnreadable';
}

function looksLikeManifest(value: unknown): value is RunManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m['businessDate'] === 'string' && typeof m['status'] === 'string' && Array.isArray(m['feeds']) && Array.isArray(m['steps']) && Array.isArray(m['reports']);
}

/** The manifest in `file`, or undefined when there is none. */
export async function readRunManifest(file: string): Promise<RunManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestUnreadable(`cannot read the run manifest ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ManifestUnreadable(`the run manifest ${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!looksLikeManifest(parsed)) throw new ManifestUnreadable(`${file} is not a run manifest (businessDate, status, feeds, steps, reports expected)`);
  return parsed;
}

/**
 * The manifests of the (at most `count`) business dates before `businessDate` that have one,
 * newest first. A date whose manifest cannot be read is left out of the trends, not fatal.
 */
export async function earlierManifests(layout: DataLayout, businessDate: string, count: number): Promise<RunManifest[]> {
  let dates: string[];
  try {
    dates = await fs.readdir(path.join(layout.dataDir, 'runs'));
  } catch {
    return [];
  }
  const earlier = dates.filter((d) => isBusinessDate(d) && d < businessDate).sort().reverse();
  const found: RunManifest[] = [];
  for (const date of earlier) {
    if (found.length >= count) break;
    const manifest = await readRunManifest(layout.manifestFile(date)).catch(() => undefined);
    if (manifest !== undefined) found.push(manifest);
  }
  return found;
}
