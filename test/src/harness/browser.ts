import type { TestContext } from 'node:test';
import puppeteer, { type Browser } from 'puppeteer-core';
import { which } from './which.js';

/** Why the browser tests skip: Debian's chromium is missing (npm test asks apt-get for it, as optional). */
export const CHROMIUM_MISSING =
  'chromium is not installed (apt-get install -y chromium; npm test installs it where it can): the dashboard browser tests are skipped';

/** Debian's headless Chromium driven by puppeteer-core, closed after the test; undefined when it is not installed. */
export async function startBrowser(t: TestContext): Promise<Browser | undefined> {
  const executablePath = which('chromium');
  if (executablePath === undefined) return undefined;
  // As root (CI, containers) Chromium's sandbox cannot start: it runs without it, on our own pages only.
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1400,1000'],
    defaultViewport: { width: 1400, height: 1000 },
  });
  t.after(() => browser.close());
  return browser;
}
