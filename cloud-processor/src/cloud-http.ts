import type { ProcessorConfig } from '@tributary/firmware-schemas';
import { tlsListenerOptions, type Logger, type TlsListenerOptions } from '@tributary/runtime';
import { processorDashboard, type Dashboard } from './dashboard/dashboard.js';
import { FleetView } from './dashboard/fleet-view.js';
import { dashboardServed } from './dashboard/session.js';
import type { AlertsView } from './detect/detection-runner.js';
import { logHttpStarted, startCloudHttp } from './ingest/http.js';
import type { Intake } from './ingest/intake.js';
import type { Outputs } from './outputs.js';
import type { Dedupe } from './state/dedupe.js';

/**
 * http.tls's files (either processor), read at start before anything listens, so one that cannot
 * be used fails the start (TlsConfigError); undefined for plain HTTP or no server.
 */
export function readHttpTls(config: ProcessorConfig): TlsListenerOptions | undefined {
  return config.http?.tls === undefined ? undefined : tlsListenerOptions(config.http.tls, 'http.tls');
}

/** What the single processor's HTTP server serves of the processor: batch uploads into its intake, its figures. */
export interface ServedProcessor {
  readonly intake: Intake;
  readonly alerts: AlertsView;
  readonly dedupe: Dedupe;
  metrics(): Promise<string>;
  health(): { ok: boolean } & Record<string, unknown>;
}

/** The server, once listening. */
interface Listening {
  readonly port: number;
  /** Where it is served (dashboardServed). */
  readonly dashboard: Dashboard | undefined;
  close(): Promise<void>;
}

/**
 * The single processor's HTTP(S) side (config.http): the fleet view the dashboard shows, fed from
 * construction on (written batches, presence), and the server `serve` starts when config.http asks
 * for one: batch uploads into the intake, /metrics, /health, /api/agents and /api/alerts, and the
 * dashboard where it is served (dashboardServed). Constructing opens nothing.
 */
export class ProcessorWeb {
  /** Every agent's presence, last batch and counters, for the dashboard. */
  readonly fleet: FleetView;
  private http: Listening | undefined;

  constructor(
    private readonly config: ProcessorConfig,
    private readonly outputs: Outputs,
    private readonly log: Logger,
  ) {
    this.fleet = new FleetView(
      config.dedupe.maxAgents,
      (agent) => outputs.dashboardForgot(agent),
      () => this.http?.dashboard?.fleetChanged(),
    );
    outputs.onAlert((alert) => this.http?.dashboard?.alert(alert));
  }

  /** The HTTP port, once serving. */
  get port(): number | undefined {
    return this.http?.port;
  }

  /** The dashboard's event streams open now. */
  get openStreams(): number {
    return this.http?.dashboard?.openStreams ?? 0;
  }

  /** Starts the server when config.http asks for one; `tls` is readHttpTls's, read before anything listened. */
  async serve(processor: ServedProcessor, tls: TlsListenerOptions | undefined): Promise<void> {
    const { config, outputs } = this;
    if (config.http === undefined) return;
    const served = dashboardServed(config.http);
    const alerts = (): { open: readonly unknown[]; recent: readonly unknown[] } => ({
      open: processor.alerts.openAlerts(),
      recent: processor.alerts.recent(),
    });
    const dashboard = served.served
      ? processorDashboard(config, { fleet: this.fleet, alerts, lost: (why) => outputs.dashboardStreamLost(why) })
      : undefined;
    const routes = { '/api/agents': () => processor.dedupe.stats(), '/api/alerts': alerts, ...dashboard?.routes };
    const streams = dashboard ? { streams: dashboard.eventStreams, pages: dashboard.pages } : {};
    const http = await startCloudHttp({
      ...config.http,
      tls,
      maxBatchBytes: config.maxBatchBytes,
      intake: processor.intake,
      metrics: () => processor.metrics(),
      health: () => processor.health(),
      routes,
      ...streams,
      onAckSent: outputs.ackSent,
      ...outputs.httpRefusals,
    }).catch((err: unknown) => {
      dashboard?.stop(); // its timers
      throw err;
    });
    logHttpStarted(this.log, config.http, http.port, served);
    const close = async (): Promise<void> => {
      dashboard?.stop();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
    };
    this.http = { port: http.port, dashboard, close };
  }

  /** Ends the dashboard's event streams (which would hold the server open), then closes the server. */
  async close(): Promise<void> {
    await this.http?.close();
  }
}
