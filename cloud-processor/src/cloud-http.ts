import type { ProcessorConfig } from '@tributary/firmware-schemas';
import type { Logger, TlsListenerOptions } from '@tributary/runtime';
import { processorDashboard, type Dashboard } from './dashboard/dashboard.js';
import type { FleetView } from './dashboard/fleet-view.js';
import { dashboardServed } from './dashboard/session.js';
import type { AlertsView } from './detect/detection-runner.js';
import { logHttpStarted, startCloudHttp } from './ingest/http.js';
import type { Intake } from './ingest/intake.js';
import type { Outputs } from './outputs.js';
import type { Dedupe } from './state/dedupe.js';

/** What the single processor's HTTP server serves. */
export interface ProcessorHttpParts {
  /** http.tls's files, read before anything listened (plain HTTP when undefined). */
  readonly tls: TlsListenerOptions | undefined;
  readonly intake: Intake;
  readonly fleet: FleetView;
  readonly alerts: AlertsView;
  readonly dedupe: Dedupe;
  readonly outputs: Outputs;
  readonly metrics: () => Promise<string>;
  readonly health: () => { ok: boolean } & Record<string, unknown>;
  readonly onAckSent: () => void;
  readonly log: Logger;
}

/** The single processor's HTTP server, once listening. */
export interface ProcessorHttp {
  readonly port: number;
  /** Where it is served (dashboardServed). */
  readonly dashboard: Dashboard | undefined;
  /** Ends the dashboard's event streams (which would hold the server open), then closes the server. */
  close(): Promise<void>;
}

/**
 * The single processor's HTTP(S) server (config.http): batch uploads into the intake, /metrics,
 * /health, /api/agents and /api/alerts, and the dashboard where it is served (dashboardServed).
 */
export async function serveProcessorHttp(
  config: ProcessorConfig & { http: NonNullable<ProcessorConfig['http']> },
  p: ProcessorHttpParts,
): Promise<ProcessorHttp> {
  const served = dashboardServed(config.http);
  const alerts = (): { open: readonly unknown[]; recent: readonly unknown[] } => ({
    open: p.alerts.openAlerts(),
    recent: p.alerts.recent(),
  });
  const dashboard = served.served
    ? processorDashboard(config, { fleet: p.fleet, alerts, lost: (why) => p.outputs.dashboardStreamLost(why) })
    : undefined;
  const routes = { '/api/agents': () => p.dedupe.stats(), '/api/alerts': alerts, ...dashboard?.routes };
  const streams = dashboard ? { streams: dashboard.eventStreams, pages: dashboard.pages } : {};
  const http = await startCloudHttp({
    ...config.http,
    tls: p.tls,
    maxBatchBytes: config.maxBatchBytes,
    intake: p.intake,
    metrics: p.metrics,
    health: p.health,
    routes,
    ...streams,
    onAckSent: p.onAckSent,
    ...p.outputs.httpRefusals,
  }).catch((err: unknown) => {
    dashboard?.stop(); // its timers
    throw err;
  });
  logHttpStarted(p.log, config.http, http.port, served);
  const close = async (): Promise<void> => {
    dashboard?.stop();
    await new Promise<void>((resolve) => http.server.close(() => resolve()));
  };
  return { port: http.port, dashboard, close };
}
