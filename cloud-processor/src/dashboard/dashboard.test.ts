import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { BatchEnvelope } from '@tributary/firmware-schemas';
import { startCloudHttp } from '../ingest/http.js';
import { Intake } from '../ingest/intake.js';
import { Dashboard } from './dashboard.js';
import { FleetView } from './fleet-view.js';
import { authorizationFromCookie, dashboardServed } from './session.js';

const READ = 'read-token-123456789';

/** The processor's HTTP server with the dashboard on it, and nothing behind (no InfluxDB: the series route reports it). */
async function serve(t: TestContext, credentials: { readToken?: string } = {}, maxEventStreams = 4) {
  const fleet = new FleetView(10, () => undefined);
  const lost: string[] = [];
  const dashboard = new Dashboard({
    fleet,
    alerts: () => ({ open: [], recent: [] }),
    influx: { url: 'http://127.0.0.1:9', database: 'none', timeoutMs: 2_000 },
    maxEventStreams,
    lost: (why) => void lost.push(why),
  });
  const http = await startCloudHttp({
    host: '127.0.0.1',
    port: 0,
    agents: [],
    ...credentials,
    maxBatchBytes: 1000,
    maxConcurrentUploads: 4,
    maxUploadsPerAgent: 4,
    maxConnections: 100,
    requestTimeoutMs: 10_000,
    intake: new Intake(1, 1 << 20, async () => undefined),
    metrics: () => 'm 1\n',
    health: () => ({ ok: true }),
    routes: dashboard.routes,
    streams: dashboard.eventStreams,
    pages: dashboard.pages,
    onAckSent: () => undefined,
    onRefused: () => undefined,
    onForbidden: () => undefined,
    onReadRefused: () => undefined,
    onTlsRefused: () => undefined,
  });
  t.after(
    () =>
      new Promise<void>((r) => {
        dashboard.stop();
        http.server.closeAllConnections();
        http.server.close(() => r());
      }),
  );
  const base = `http://127.0.0.1:${http.port}`;
  return {
    base,
    fleet,
    dashboard,
    lost,
    get: (path: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { headers, redirect: 'manual' }),
  };
}

test('served on loopback or behind a read token; on a network address without one only when asked', () => {
  const cases: Array<[Parameters<typeof dashboardServed>[0], boolean]> = [
    [{ host: '127.0.0.1', dashboard: 'auto' }, true],
    [{ host: '::1', dashboard: 'auto' }, true],
    [{ host: '0.0.0.0', dashboard: 'auto' }, false],
    [{ host: '192.168.1.5', dashboard: 'auto', readToken: READ }, true],
    [{ host: '0.0.0.0', dashboard: 'auto', token: 'shared' }, true],
    [{ host: '0.0.0.0', dashboard: 'on' }, true],
    [{ host: '127.0.0.1', dashboard: 'off' }, false],
  ];
  for (const [http, served] of cases) assert.equal(dashboardServed(http).served, served, JSON.stringify(http));
  assert.match(
    dashboardServed({ host: '0.0.0.0', dashboard: 'auto' }).why,
    /not a loopback address and no http\.readToken/,
  );
});

test('the session cookie stands for the bearer header; anything else in the Cookie header does not', () => {
  assert.equal(authorizationFromCookie(`a=b; tributary_read=${encodeURIComponent(READ)}; c=d`), `Bearer ${READ}`);
  for (const cookie of [
    undefined,
    '',
    'tributary_read=',
    'tributary_read_x=abc',
    'other=tributary_read=abc',
    'tributary_read=%E0%A4%A',
  ])
    assert.equal(authorizationFromCookie(cookie), undefined, String(cookie));
});

test('with a read token: the page is public, its data needs the token, a sign-in keeps it in an HttpOnly cookie that opens the API and the event stream', async (t) => {
  const { base, get } = await serve(t, { readToken: READ });
  assert.equal((await get('/')).headers.get('location'), '/dashboard/');
  for (const file of ['/dashboard/', '/dashboard/dashboard.js', '/dashboard/vendor/uPlot.esm.js'])
    assert.equal((await get(file)).status, 200, file);
  for (const path of ['/api/dashboard/fleet', '/api/dashboard/events', '/api/dashboard/series?metric=t&device=d'])
    assert.equal((await get(path)).status, 401, path);
  const signIn = (token: string) =>
    fetch(`${base}/dashboard/session`, { method: 'POST', body: new URLSearchParams({ token }) });
  const wrong = await signIn('not-the-token-at-all');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const right = await signIn(READ);
  assert.equal(right.status, 204);
  const cookie = right.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.doesNotMatch(cookie, /Max-Age/, 'a session cookie unless asked to remember');
  const session = { cookie: cookie.split(';')[0]! };
  assert.deepEqual(
    await (await get('/api/dashboard/fleet', session)).json().then((f) => (f as { agents: unknown[] }).agents),
    [],
  );
  assert.equal((await get('/metrics', session)).status, 200, 'the cookie reads /metrics as the header would');
  const events = await get('/api/dashboard/events', session);
  assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = events.body!.getReader();
  let text = '';
  while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const signOut = await fetch(`${base}/dashboard/session`, { method: 'DELETE' });
  assert.match(signOut.headers.get('set-cookie') ?? '', /Max-Age=0/);
});

test('event streams are bounded: one more than http.maxEventStreams is answered 503 and counted', async (t) => {
  const { get, lost, dashboard } = await serve(t, {}, 2);
  const open = [await get('/api/dashboard/events'), await get('/api/dashboard/events')];
  assert.deepEqual(
    open.map((r) => r.status),
    [200, 200],
  );
  const over = await get('/api/dashboard/events');
  assert.equal(over.status, 503);
  assert.equal(over.headers.get('retry-after'), '10');
  assert.deepEqual(lost, ['full']);
  assert.equal(dashboard.openStreams, 2);
  for (const r of open) await r.body!.cancel();
});

test('alerts reach an open stream as events; a series that cannot be read says why', async (t) => {
  const { get, dashboard } = await serve(t);
  const res = await get('/api/dashboard/events');
  const reader = res.body!.getReader();
  const alert = {
    v: 1,
    id: 'd/t/ensemble/1',
    state: 'opened',
    device: 'd "1"\n',
    metric: 't',
    detector: 'ensemble',
    severity: 'critical',
    score: 1,
    value: 2,
    openedAt: 1,
    at: 1,
    message: 'a\nb',
  } as const;
  dashboard.alert(alert);
  let text = '';
  while (!text.includes('event: alert')) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const line = text.split('\n').find((_line, i, all) => all[i - 1] === 'event: alert')!;
  assert.deepEqual(JSON.parse(line.slice('data: '.length)), alert, 'one data line, newlines and quotes escaped');
  const series = (await (await get('/api/dashboard/series?metric=t&device=d')).json()) as {
    error: string;
    windows: unknown[];
  };
  assert.match(series.error, /^reading InfluxDB: /);
  assert.deepEqual(series.windows, []);
});

test('the fleet view reads only the counters it knows from a batch, and forgets the least recently heard agent at its bound', () => {
  const evicted: string[] = [];
  const fleet = new FleetView(2, (a) => void evicted.push(a));
  const counters = JSON.parse(
    '{"readings_accepted": 90, "readings_late": 3, "readings_dropped_unsent": 4, "__proto__": 7, "constructor": 5, "messages_invalid": 2}',
  ) as Record<string, number>;
  const batch = (agent: string, seq: number): BatchEnvelope =>
    ({ v: 1, agent, epoch: 1, seq, sentAt: 1000 + seq, windows: [], counters }) as unknown as BatchEnvelope;
  fleet.written(batch('gw-a', 1), 5000);
  fleet.presence('gw-b', true);
  const a = fleet.list(10).agents.find((x) => x.agent === 'gw-a')!;
  assert.deepEqual(
    [a.readingsAccepted, a.readingsDropped, a.messagesInvalid, a.lastSeq, a.lastBatchAt, a.online],
    [90, 7, 2, 1, 5000, undefined],
  );
  assert.deepEqual({ ...a.droppedBy }, { readings_late: 3, readings_dropped_unsent: 4 });
  fleet.written(batch('gw-a', 2), 6000); // gw-a heard from again: gw-b is now the least recent
  fleet.presence('gw-c', false);
  assert.deepEqual(evicted, ['gw-b']);
  assert.deepEqual(fleet.list(1), { agents: [fleet.list(10).agents[0]], agentsTotal: 2 });
});
