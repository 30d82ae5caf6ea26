import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';

/** Debian's Chromium (`apt-get install chromium`); playwright's own browser download is not reachable here. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Where browser tests leave screenshots (gitignored; CI keeps the folder of the clone it ran in). */
export const ARTIFACTS_DIR = new URL('../artifacts/', import.meta.url);

/** Inside a test: a headless Chromium page, closed with its browser when the test finishes. */
export async function browserPageForTest(): Promise<Page> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  onTestFinished(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  return page;
}

/** Saves a full-page screenshot as `test/artifacts/<name>.png` and answers its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS_DIR).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}
