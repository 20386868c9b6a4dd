/**
 * Debian's Chromium driven by playwright-core (which cannot download a browser here), and pages that
 * let nothing leave: every request that is not a file: or data: URL is aborted and recorded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the browser is: NIGHTJAR_CHROMIUM (scripts/chromium.sh prints it), else Debian's path. */
export const CHROMIUM = process.env.NIGHTJAR_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots and other artifacts the browser tests keep. */
export const ARTIFACTS = path.resolve(__dirname, '..', '..', '.cache', 'browser');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run 'bash scripts/chromium.sh' (as root it installs Debian's chromium)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh, temporary --user-data-dir.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface GuardedPage {
  readonly page: Page;
  /** Requests that tried to leave the page (aborted). */
  readonly leaks: string[];
  /** Console errors and page errors (a Content-Security-Policy violation shows up here). */
  readonly errors: string[];
}

/** A page whose requests may only read local files and data: URLs; `allow` adds origins (the Temporal UI test). */
export async function guardedPage(browser: Browser, allow: readonly string[] = []): Promise<GuardedPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const leaks: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || allow.some((origin) => url.startsWith(origin))) return route.continue();
    leaks.push(url);
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, leaks, errors };
}
