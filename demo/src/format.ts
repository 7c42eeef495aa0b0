import type { AlertEvent } from '@tributary/firmware-schemas';
import type { PipelineSummary } from '@tributary/test/harness/pipeline.js';

const simTime = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** One line per alert transition, e.g. `2026-11-20 14:35  OPENED   critical  th-0007 temperature  …`. */
export function formatAlert(alert: AlertEvent): string {
  const state = alert.state.toUpperCase().padEnd(8);
  return `${simTime(alert.at)}  ${state} ${alert.severity.padEnd(8)} ${alert.device} ${alert.metric}  ${alert.message}`;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function formatSummary(s: PipelineSummary, readingsInInflux: number, windowMs: number): string {
  const lines = [
    '',
    'Summary',
    `  readings sent        ${s.readingsSent} (${s.messagesSent} messages)`,
    `  readings accepted    ${s.readingsAccepted}${s.readingsFiltered > 0 ? ` (${s.readingsFiltered} filtered out by the agent: outside the sensor's range)` : ''}`,
    `  readings in InfluxDB ${readingsInInflux} (Σ count over all windows${readingsInInflux === s.readingsAccepted ? ', equal to accepted' : ', DIFFERENT from accepted'})`,
    `  windows written      ${s.windowsWritten}`,
    `  anomalies injected   ${s.anomaliesInjected}`,
    `  alerts raised        ${s.alertsOpened}`,
    `  detection precision  ${s.score.alerts === 0 ? '- (no alerts)' : `${pct(s.score.precision)} (${s.score.truePositiveAlerts} of ${s.score.alerts} alerts match an injected anomaly)`}`,
    `  detection recall     ${s.anomaliesInjected === 0 ? '- (nothing injected)' : pct(s.score.recall)}`,
  ];
  for (const [kind, k] of Object.entries(s.score.byKind)) {
    const delay = k.medianDelayMs === undefined ? '-' : `${(k.medianDelayMs / windowMs).toFixed(1)} windows`;
    lines.push(`    ${kind.padEnd(12)} detected ${k.detected}/${k.labels}, median delay ${delay}`);
  }
  if (!s.drained) lines.push('  warning: the agent stopped before the cloud acked every batch');
  return lines.join('\n');
}
