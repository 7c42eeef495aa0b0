import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CloudProcessor } from '@tributary/cloud-processor';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { CHROMIUM_MISSING, startBrowser } from '../harness/browser.js';
import { startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';

const WINDOW_MS = 5 * 60_000;
const ARTEFACTS = fileURLToPath(new URL('../../../.tributary/artifacts/', import.meta.url));

declare global {
  interface Window {
    /** Set by this test's own observer: alert id → when its row first appeared (ms since the epoch). */
    alertShownAt: Record<string, number>;
  }
}

test('the dashboard in headless Chromium: fleet, an alert on screen within seconds of opening, a chart with points', {
  timeout: 180_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const browser = await startBrowser(t);
  if (browser === undefined) return t.skip(CHROMIUM_MISSING);
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'dashboard',
    stateDir: scratchDir('dashboard'),
    devices: 20,
    seed: 11,
    durationMs: 10 * 3_600_000,
    speed: (10 * 3_600_000) / 30_000, // ten simulated hours in about 30 s
    samplePeriodMs: 15_000,
    windowMs: WINDOW_MS,
    anomalyRatePerDay: 6,
  });
  t.after(async () => {
    pipeline.stopPlaying(); // a failed assertion leaves it playing
    await pipeline.close();
  });
  const opened = new Map<string, number>();
  pipeline.cloud.onAlert((a) => {
    if (a.state === 'opened') opened.set(a.id, Date.now());
  });

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text()))); // CSP refusals among them
  const url = `http://127.0.0.1:${pipeline.cloud.httpPort}/`;
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: 10_000 });
  const liveMs = Date.now() - t0;
  const firstPaintMs = await page.evaluate(
    () => performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint')?.startTime ?? NaN,
  );
  assert.ok(firstPaintMs > 0, 'the page painted');
  // The test's own observer (not the page's code): when each alert's row first appears.
  await page.evaluate(() => {
    window.alertShownAt = {};
    const note = (): void => {
      for (const li of document.querySelectorAll<HTMLElement>('[data-alert-id]'))
        window.alertShownAt[li.dataset.alertId!] ??= Date.now();
    };
    new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
  });

  const playing = pipeline.play();
  await waitFor('an alert to open', () => opened.size >= 3, 60_000);
  await waitFor(
    'the opened alerts on screen',
    async () => {
      const shown = await page.evaluate(() => window.alertShownAt);
      return [...opened.keys()].slice(0, 3).every((id) => shown[id] !== undefined);
    },
    10_000,
  );
  const shown = await page.evaluate(() => window.alertShownAt);
  const lags = [...opened].filter(([id]) => shown[id] !== undefined).map(([id, at]) => shown[id]! - at);
  const worst = Math.max(...lags);
  assert.ok(worst < 5_000, `every alert on screen within 5 s of opening (worst ${worst} ms)`);

  await waitFor(
    'the fleet row of the agent with readings accepted',
    () =>
      page.evaluate(() => {
        const cells = [
          ...(document.querySelector('#fleet tbody tr[data-agent="demo-gw"]')?.querySelectorAll('td') ?? []),
        ].map((c) => c.textContent ?? '');
        return cells[2] === 'online' && Number((cells[5] ?? '0').replace(/,/g, '')) > 0;
      }),
    15_000,
  );
  // The chart shows the series of an alert: its windows drawn, its alerts marked.
  const caption = await waitFor(
    'the chart to have points',
    async () => {
      const text = await page.$eval('#series-caption', (e) => e.textContent ?? '');
      const windows = Number(/^(\d+) windows/.exec(text)?.[1] ?? 0);
      return windows > 10 && /[1-9]\d* alert transitions/.test(text) ? text : undefined;
    },
    20_000,
  );
  assert.ok(await page.$('#chart canvas'), 'uPlot drew on a canvas');

  mkdirSync(ARTEFACTS, { recursive: true });
  const screenshot = `${ARTEFACTS}dashboard.png`;
  await page.screenshot({ path: screenshot as `${string}.png`, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  const sorted = [...lags].sort((a, b) => a - b);
  t.diagnostic(
    `first contentful paint ${firstPaintMs.toFixed(0)} ms; live (snapshot drawn) ${liveMs} ms after navigation; alert opened → on screen: median ${sorted[sorted.length >> 1]} ms, worst ${worst} ms over ${lags.length} alerts; ${caption}`,
  );
  assert.deepEqual(errors, [], 'no script error on the page, nothing refused by its content security policy');

  pipeline.stopPlaying();
  await playing;
  await pipeline.finish();
});

test('behind a read token the page asks for it once, and the session cookie keeps the board open across reloads', {
  timeout: 60_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const browser = await startBrowser(t);
  if (browser === undefined) return t.skip(CHROMIUM_MISSING);
  const readToken = 'dashboard-read-token-0123';
  const config = ProcessorConfigSchema.parse({
    broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
    influx: { url: influxd.url, database: 'signin' },
    stateDir: scratchDir('dashboard-signin'),
    http: { host: '127.0.0.1', port: 0, readToken },
  });
  const cloud = new CloudProcessor({ config, log: silentLogger });
  await cloud.start();
  t.after(() => cloud.stop());
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${cloud.httpPort}/dashboard/`, { waitUntil: 'load' });
  await page.waitForSelector('#sign-in:not([hidden])', { timeout: 5_000 });
  assert.equal(await page.$eval('#board', (e) => (e as HTMLElement).hidden), true, 'no data shown before signing in');
  await page.type('#sign-in [name=token]', 'a-wrong-token-000000');
  await page.click('#sign-in button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('#sign-in-error')?.textContent ?? '') !== '', {
    timeout: 5_000,
  });
  await page.type('#sign-in [name=token]', readToken);
  await page.click('#sign-in button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: 5_000 });
  const cookies = await page.cookies();
  assert.deepEqual(
    cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
    [['tributary_read', true, 'Strict']],
  );
  await page.reload({ waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: 5_000 });
  assert.equal(await page.$eval('#sign-in', (e) => (e as HTMLElement).hidden), true, 'signed in after a reload');
});
