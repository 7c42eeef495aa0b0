import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RESERVED_MEASUREMENTS, type AlertEvent, type ProcessorConfig } from '@tributary/firmware-schemas';
import type { InfluxReadTarget } from '@tributary/storage';
import { recentWindows, seriesNames } from '@tributary/storage';
import { influxAuthHeaders } from '../influx/target.js';
import { EventStreams, type StreamLoss } from './event-stream.js';
import type { FleetView } from './fleet-view.js';
import { CLEARED_SESSION_COOKIE, sessionCookie } from './session.js';

/** Windows a chart shows at most, and device names a picker offers. */
const MAX_CHART_WINDOWS = 2_000;
const MAX_DEVICE_NAMES = 1_000;
/** Agents the fleet table shows at most (the first by name; the page says how many more). */
const MAX_FLEET_ROWS = 500;
/** A dashboard tab's unsent events at most before it is cut off (it reconnects). */
const MAX_STREAM_BUFFER_BYTES = 1 << 20;
/** How often the fleet is pushed to open dashboards (when it changed) and idle streams get a heartbeat. */
const FLEET_PUSH_MS = 2_000;
const HEARTBEAT_MS = 15_000;
/**
 * The page may load scripts and data only from this server (no inline script: a device id that
 * slipped into markup could not run), and may not be framed by another site (clickjacking).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";
/** A sign-in form's body at most. */
const MAX_SIGN_IN_BYTES = 4_096;

export interface DashboardOptions {
  readonly fleet: FleetView;
  /** Open alerts and the recent transitions (AlertLifecycle). */
  readonly alerts: () => { open: readonly unknown[]; recent: readonly unknown[] };
  /** Where windows are read back from (the processor's InfluxDB, with its credentials). */
  readonly influx: InfluxReadTarget;
  readonly maxEventStreams: number;
  readonly lost: (why: StreamLoss) => void;
}

/** The page's files: path → [file, content type]. The page is plain ES modules; uPlot comes from its npm package. */
function staticFiles(): Map<string, { body: Buffer; type: string }> {
  const pub = (name: string): string => fileURLToPath(new URL(`../../public/${name}`, import.meta.url));
  const uplot = (name: string): string => createRequire(import.meta.url).resolve(`uplot/dist/${name}`);
  const files: Array<[string, string, string]> = [
    ['/dashboard/', pub('index.html'), 'text/html; charset=utf-8'],
    ['/dashboard/dashboard.js', pub('dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard/chart.js', pub('chart.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard/dashboard.css', pub('dashboard.css'), 'text/css; charset=utf-8'],
    ['/dashboard/vendor/uPlot.esm.js', uplot('uPlot.esm.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard/vendor/uPlot.min.css', uplot('uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([path, file, type]) => [path, { body: readFileSync(file), type }]));
}

/** The dashboard of a processor: windows read back from the InfluxDB it writes to, with its credentials; lost streams counted by `lost`. */
export function processorDashboard(
  config: ProcessorConfig,
  parts: Pick<DashboardOptions, 'fleet' | 'alerts' | 'lost'>,
): Dashboard {
  const influx = config.influx;
  return new Dashboard({
    ...parts,
    influx: {
      url: influx.url,
      database: influx.api === 'v2' ? (influx.bucket ?? influx.database) : influx.database,
      headers: influxAuthHeaders(influx),
      timeoutMs: influx.timeoutMs,
    },
    maxEventStreams: config.http?.maxEventStreams ?? 1,
  });
}

/**
 * The live dashboard served by the processor's HTTP server: its files and sign-in (public), and
 * its data under /api/dashboard/ (the read token when one is configured): the fleet, alerts as
 * server-sent events, and each series' recent windows read back from InfluxDB.
 */
export class Dashboard {
  private readonly files = staticFiles();
  private readonly streams: EventStreams;
  private readonly timers: NodeJS.Timeout[] = [];
  private fleetDirty = false;

  constructor(private readonly o: DashboardOptions) {
    this.streams = new EventStreams(o.maxEventStreams, MAX_STREAM_BUFFER_BYTES, o.lost);
    this.timers.push(
      setInterval(() => this.pushFleet(), FLEET_PUSH_MS).unref(),
      setInterval(() => this.streams.heartbeat(), HEARTBEAT_MS).unref(),
    );
  }

  /** JSON routes for the HTTP server. */
  readonly routes: Readonly<Record<string, (query: URLSearchParams) => unknown>> = {
    '/api/dashboard/fleet': () => ({ ...this.o.fleet.list(MAX_FLEET_ROWS), now: Date.now() }),
    '/api/dashboard/series': (q) => this.series(q),
    '/api/dashboard/series-names': (q) =>
      seriesNames(this.o.influx, RESERVED_MEASUREMENTS, q.get('metric') ?? undefined, MAX_DEVICE_NAMES).catch(
        (err: Error) => ({ metrics: [], devices: [], error: err.message }),
      ),
  };

  /** The live stream: a snapshot of alerts and fleet, then every alert transition as it goes out. */
  readonly eventStreams: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => void>> = {
    '/api/dashboard/events': (req, res) =>
      this.streams.accept(req, res, [
        ['snapshot', { ...this.o.alerts(), ...this.o.fleet.list(MAX_FLEET_ROWS), now: Date.now() }],
      ]),
  };

  /** An alert transition has gone out (its batch is durable). */
  alert(event: AlertEvent): void {
    this.streams.send('alert', event);
  }

  /** A batch was written, or an agent's presence changed. */
  fleetChanged(): void {
    this.fleetDirty = true;
  }

  /** The page's files, `/` sent to the page, and the sign-in (POST /dashboard/session). */
  readonly pages = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    mayRead: (authorization: string | undefined) => boolean,
  ): Promise<boolean> => {
    if (req.method === 'GET' && (path === '/' || path === '/dashboard')) {
      res.writeHead(302, { location: '/dashboard/' }).end();
      return true;
    }
    const file = req.method === 'GET' ? this.files.get(path) : undefined;
    if (file) {
      res
        .writeHead(200, {
          'content-type': file.type,
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          'content-security-policy': CONTENT_SECURITY_POLICY,
        })
        .end(file.body);
      return true;
    }
    if (path !== '/dashboard/session') return false;
    if (req.method === 'DELETE') {
      res.writeHead(204, { 'set-cookie': CLEARED_SESSION_COOKIE }).end();
      return true;
    }
    if (req.method !== 'POST') return false;
    const form = await readForm(req);
    const token = form?.get('token') ?? '';
    // Only a token that reads, and that a cookie can carry as it is (no control characters, `;` or `,`).
    if (token === '' || !/^[\x21-\x7e]+$/.test(token) || !mayRead(`Bearer ${token}`)) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'wrong token (http.readToken)' }));
      return true;
    }
    res.writeHead(204, { 'set-cookie': sessionCookie(token, form?.get('remember') === 'on') }).end();
    return true;
  };

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.streams.close();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private async series(q: URLSearchParams): Promise<unknown> {
    const metric = q.get('metric') ?? '';
    const device = q.get('device') ?? '';
    const limit = Math.min(Math.max(Number(q.get('limit')) || 360, 1), MAX_CHART_WINDOWS);
    if (metric === '' || device === '') return { error: 'metric and device are required', windows: [], alerts: [] };
    try {
      return { metric, device, ...(await recentWindows(this.o.influx, metric, device, limit)) };
    } catch (err) {
      return { metric, device, error: `reading InfluxDB: ${(err as Error).message}`, windows: [], alerts: [] };
    }
  }

  private pushFleet(): void {
    if (!this.fleetDirty) return;
    this.fleetDirty = false;
    this.streams.send('fleet', { ...this.o.fleet.list(MAX_FLEET_ROWS), now: Date.now() });
  }
}

/** An urlencoded form body up to MAX_SIGN_IN_BYTES, or undefined. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_SIGN_IN_BYTES) return undefined;
  }
  return new URLSearchParams(body);
}
