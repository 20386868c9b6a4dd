/** Writes a night's report page beside its manifest, with the earlier nights' trends. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DataLayout } from '../common/layout';
import type { RunManifest } from '../domain/pipeline';
import { earlierManifests } from './manifests';
import { DEFAULT_TREND_NIGHTS, renderNightReport } from './render';

/** Renders `<data-dir>/runs/<date>/report.html` from the manifest and writes it atomically; returns its path. */
export async function writeNightReport(layout: DataLayout, manifest: RunManifest, trendNights = DEFAULT_TREND_NIGHTS): Promise<string> {
  const earlier = await earlierManifests(layout, manifest.businessDate, trendNights);
  const file = layout.reportFile(manifest.businessDate);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Written whole then renamed: a reader never opens half a page.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, renderNightReport(manifest, earlier, { trendNights }));
  await fs.rename(tmp, file);
  return file;
}
