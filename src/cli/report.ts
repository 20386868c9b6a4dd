/** `nightjar report`: where a night's report page is, rendered from its manifest when missing. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataLayout } from '../common/layout';
import { readRunManifest } from '../night-report/manifests';
import { writeNightReport } from '../night-report/write';
import { OperationRefused } from './exit-codes';

export interface NightReportFile {
  readonly businessDate: string;
  readonly path: string;
  readonly url: string;
  /** True when the page was rendered now (the night ended before pages were written). */
  readonly rendered: boolean;
}

export async function reportFor(layout: DataLayout, businessDate: string): Promise<NightReportFile> {
  const file = layout.reportFile(businessDate);
  if (fs.existsSync(file)) return { businessDate, path: file, url: pathToFileURL(file).href, rendered: false };
  const manifest = await readRunManifest(layout.manifestFile(businessDate));
  if (manifest === undefined) {
    throw new OperationRefused(
      `no report for ${businessDate}: there is no run manifest at ${layout.manifestFile(businessDate)} (a night writes both when it ends); see where it stands with: nightjar status --date ${businessDate}`,
    );
  }
  const written = await writeNightReport(layout, manifest);
  return { businessDate, path: written, url: pathToFileURL(written).href, rendered: true };
}

/** Opens the page with the desktop's opener; says what happened in one line (no browser is not an error). */
export function openReport(file: string, pathVariable = process.env.PATH ?? ''): string {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const found = pathVariable.split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, opener)));
  if (!found) return `no ${opener} on this machine: open ${pathToFileURL(file).href} in a browser`;
  try {
    const child = spawn(opener, [file], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return `opening ${pathToFileURL(file).href} with ${opener}`;
  } catch {
    return `could not run ${opener}: open ${pathToFileURL(file).href} in a browser`;
  }
}
