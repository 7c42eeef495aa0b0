// The live dashboard: the fleet, open and recent alerts (server-sent events) and a chart of any
// series' recent windows. Plain ES modules served by the cloud processor; no build step.
// Device ids, metric names and messages come from strangers: they only ever reach the page as
// text (textContent), never as markup.
import { drawSeries } from './chart.js';

const MAX_RECENT = 200;
const CHART_REFRESH_MS = 10_000;

const $ = (selector) => document.querySelector(selector);
const state = {
  open: new Map(), // alert id → alert, as opened or last updated
  recent: [], // transitions, newest first
  agents: [], // the first agents by name (the server sends a bounded number)
  agentsTotal: 0,
  clockOffsetMs: 0, // server clock − this browser's
  shown: undefined, // { metric, device } on the chart
  chart: undefined,
  events: undefined,
};

class SignInNeeded extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (res.status === 401) throw new SignInNeeded('sign-in needed');
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** An element with text (never markup) and attributes. */
function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

const number = (n) => (n ?? 0).toLocaleString('en');
const time = (ms) => new Date(ms).toLocaleString();
function age(ms) {
  if (ms === undefined || ms === null) return '—';
  const s = Math.max(0, Math.round((Date.now() + state.clockOffsetMs - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 3600)} h ago`;
}

// ---- fleet

function renderFleet() {
  const body = $('#fleet tbody');
  body.replaceChildren(
    ...state.agents.map((a) => {
      const row = el('tr', undefined, { 'data-agent': a.agent });
      const presence =
        a.online === true
          ? ['online', 'online']
          : a.online === false
            ? ['offline', 'offline']
            : ['unknown', 'no presence (HTTP uplink?)'];
      const dropped = el('td', number(a.readingsDropped), {
        class: a.readingsDropped > 0 ? 'num dropped' : 'num',
        title:
          Object.entries(a.droppedBy)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n') || 'none',
      });
      row.append(
        el('td', a.agent),
        el('td', a.site ?? ''),
        el('td', presence[1], { class: presence[0] }),
        el('td', a.lastBatchAt === undefined ? '—' : `${age(a.lastBatchAt)} (seq ${a.lastSeq})`, {
          'data-at': a.lastBatchAt ?? '',
        }),
        el('td', number(a.batches), { class: 'num' }),
        el('td', number(a.readingsAccepted), { class: 'num' }),
        el('td', number(a.readingsFiltered), { class: 'num' }),
        dropped,
        el('td', number(a.messagesInvalid), { class: 'num' }),
      );
      return row;
    }),
  );
  const note =
    state.agents.length === 0
      ? 'No agent heard from yet.'
      : state.agentsTotal > state.agents.length
        ? `… and ${number(state.agentsTotal - state.agents.length)} more agents.`
        : undefined;
  if (note !== undefined) {
    const row = el('tr');
    row.append(el('td', note, { colspan: '9' }));
    body.append(row);
  }
}

// ---- alerts

function alertItem(a) {
  const item = el('li', undefined, {
    'data-alert-id': a.id,
    class: `${a.severity} ${a.state ?? 'opened'}`,
    title: 'Show this series',
  });
  item.append(
    el('span', `${a.device} · ${a.metric}`, { class: 'what' }),
    el('span', ` ${a.state ?? 'open'} · ${a.severity} · ${a.detector}`),
  );
  const at = a.at ?? a.openedAt;
  item.append(el('span', `${time(at)}${at === a.openedAt ? '' : ` (opened ${time(a.openedAt)})`}`, { class: 'when' }));
  if (a.message) item.append(el('span', a.message, { class: 'message' }));
  item.addEventListener('click', () => showSeries(a.metric, a.device));
  return item;
}

function renderAlerts() {
  const open = [...state.open.values()].sort((x, y) => y.openedAt - x.openedAt);
  $('#open-alerts').replaceChildren(...open.map(alertItem));
  if (open.length === 0) $('#open-alerts').append(el('li', 'None open.', { class: 'none' }));
  $('#recent-alerts').replaceChildren(...state.recent.map(alertItem));
  $('#open-count').textContent = `${open.length} open`;
}

/** One alert transition, as it went out. */
function onAlert(a) {
  // The snapshot may already hold it (a transition is recorded as it happens, sent once durable).
  if (state.recent.some((r) => r.id === a.id && r.state === a.state && r.at === a.at)) return;
  if (a.state === 'resolved') state.open.delete(a.id);
  else state.open.set(a.id, a);
  state.recent.unshift(a);
  state.recent.length = Math.min(state.recent.length, MAX_RECENT);
  renderAlerts();
  if (state.shown?.metric === a.metric && state.shown?.device === a.device) void refreshChart();
  else if (state.shown === undefined) void showSeries(a.metric, a.device);
}

// ---- live events

function connect() {
  state.events?.close();
  const events = new EventSource('/api/dashboard/events');
  state.events = events;
  events.addEventListener('open', () => ($('#connection').textContent = 'live'));
  events.addEventListener('snapshot', (e) => {
    const s = JSON.parse(e.data);
    state.clockOffsetMs = s.now - Date.now();
    state.open = new Map(s.open.map((a) => [a.id, a]));
    state.recent = [...s.recent].reverse().slice(0, MAX_RECENT);
    state.agents = s.agents;
    state.agentsTotal = s.agentsTotal;
    renderAlerts();
    renderFleet();
    if (state.shown === undefined) void pickFirstSeries();
  });
  events.addEventListener('alert', (e) => onAlert(JSON.parse(e.data)));
  events.addEventListener('fleet', (e) => {
    const f = JSON.parse(e.data);
    state.clockOffsetMs = f.now - Date.now();
    state.agents = f.agents;
    state.agentsTotal = f.agentsTotal;
    renderFleet();
  });
  events.addEventListener('error', () => {
    $('#connection').textContent = 'reconnecting…';
    // The browser retries by itself; a refused token it would retry forever: ask for one instead.
    api('/api/dashboard/fleet').catch((err) => {
      if (err instanceof SignInNeeded) {
        events.close();
        showSignIn();
      }
    });
  });
}

// ---- series chart

async function loadMetrics() {
  const names = await api('/api/dashboard/series-names');
  $('#series-picker [name=metric]').replaceChildren(...names.metrics.map((m) => el('option', m, { value: m })));
  return names.metrics;
}

async function loadDevices(metric) {
  const names = await api(`/api/dashboard/series-names?${new URLSearchParams({ metric })}`);
  $('#devices').replaceChildren(...names.devices.map((d) => el('option', undefined, { value: d })));
  return names.devices;
}

/** The series of the newest open alert, else of the newest transition, else the first there is. */
async function pickFirstSeries() {
  const metrics = await loadMetrics();
  const alert = [...state.open.values()].sort((x, y) => y.openedAt - x.openedAt)[0] ?? state.recent[0];
  if (alert) return showSeries(alert.metric, alert.device);
  if (metrics.length === 0) return void ($('#series-caption').textContent = 'No windows written yet.');
  const devices = await loadDevices(metrics[0]);
  if (devices.length > 0) await showSeries(metrics[0], devices[0]);
}

async function showSeries(metric, device) {
  state.shown = { metric, device };
  const form = $('#series-picker');
  if (![...form.metric.options].some((o) => o.value === metric))
    form.metric.append(el('option', metric, { value: metric }));
  form.metric.value = metric;
  form.device.value = device;
  void loadDevices(metric);
  await refreshChart();
}

async function refreshChart() {
  if (state.shown === undefined) return;
  const { metric, device } = state.shown;
  const limit = $('#series-picker [name=limit]').value || '360';
  const series = await api(`/api/dashboard/series?${new URLSearchParams({ metric, device, limit })}`);
  if (state.shown?.metric !== metric || state.shown?.device !== device) return; // another was picked meanwhile
  const caption = $('#series-caption');
  if (series.error) caption.textContent = series.error;
  else if (series.windows.length === 0) caption.textContent = `No windows of ${metric} on ${device}.`;
  else {
    const first = series.windows[0].ts;
    const last = series.windows[series.windows.length - 1].ts;
    caption.textContent = `${series.windows.length} windows of ${metric} on ${device}, ${time(first)} – ${time(last)}: mean, min–max band, p99; ${series.alerts.length} alert transitions marked.`;
  }
  state.chart = drawSeries($('#chart'), series, state.chart);
}

// ---- sign-in

function showSignIn() {
  $('#board').hidden = true;
  $('#sign-in').hidden = false;
  $('#connection').textContent = 'signed out';
  $('#sign-in [name=token]').focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const body = new URLSearchParams({ token: form.token.value, ...(form.remember.checked ? { remember: 'on' } : {}) });
  const res = await fetch('/dashboard/session', { method: 'POST', body });
  if (!res.ok) {
    $('#sign-in-error').textContent = 'That token does not read this processor.';
    form.token.select(); // typing again replaces it
    return;
  }
  form.reset();
  $('#sign-in-error').textContent = '';
  $('#sign-out').hidden = false;
  await start();
}

async function signOut() {
  await fetch('/dashboard/session', { method: 'DELETE' });
  state.events?.close();
  showSignIn();
}

async function start() {
  try {
    await api('/api/dashboard/fleet');
  } catch (err) {
    if (err instanceof SignInNeeded) return showSignIn();
    throw err;
  }
  $('#sign-in').hidden = true;
  $('#board').hidden = false;
  connect();
}

$('#sign-in').addEventListener('submit', (e) => void signIn(e));
$('#sign-out').addEventListener('click', () => void signOut());
$('#series-picker').addEventListener('submit', (e) => {
  e.preventDefault();
  void showSeries(e.target.metric.value, e.target.device.value);
});
$('#series-picker [name=metric]').addEventListener('change', (e) => void loadDevices(e.target.value));
setInterval(() => {
  if (!$('#board').hidden) renderFleet(); // ages move on
}, 1_000);
setInterval(() => {
  if (!$('#board').hidden && document.visibilityState === 'visible') void refreshChart();
}, CHART_REFRESH_MS);
window.addEventListener('resize', () =>
  state.chart?.setSize({ width: Math.max($('#chart').clientWidth, 320), height: 320 }),
);
void start();
