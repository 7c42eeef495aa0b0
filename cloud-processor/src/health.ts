import type { InfluxWriter, WriterStatus } from './influx/writer.js';

/** What /health judges the processor by, read at the moment of the request. */
export interface CloudHealthInputs {
  readonly influx: WriterStatus;
  /** The MQTT ingest's connection to the broker, and since when it is down (ms since the epoch). */
  readonly broker: { readonly connected: boolean; readonly downSinceMs: number | undefined };
  /** Since when the write backlog has admitted nothing (ms since the epoch), or undefined. */
  readonly backlogFullSinceMs: number | undefined;
  /** ingest.maxStallMs: how long a full backlog or failing writes are waited out before they are news. */
  readonly maxStallMs: number;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/**
 * Why the processor is unhealthy, one sentence per reason (empty when healthy). Each reason is a
 * state in which batches are not being acked and that outlasts what the processor waits out by
 * itself: InfluxDB refusing writes (needs a person), InfluxDB failing or the backlog full for
 * longer than ingest.maxStallMs (agents are spooling), the broker connection lost for as long.
 */
export function cloudHealthReasons(h: CloudHealthInputs, now: number): string[] {
  const reasons: string[] = [];
  const { influx } = h;
  if (influx.state === 'blocked')
    reasons.push(
      `InfluxDB refuses the writes (${influx.reason ?? `HTTP ${influx.status}`}); nothing is acked until that is fixed`,
    );
  const retryingFor = influx.state === 'retrying' && influx.sinceMs !== undefined ? now - influx.sinceMs : 0;
  if (retryingFor > h.maxStallMs)
    reasons.push(
      `InfluxDB writes failing for ${seconds(retryingFor)} (${influx.reason ?? 'no answer'}); batches wait unacked in the agents' spools`,
    );
  const downFor = !h.broker.connected && h.broker.downSinceMs !== undefined ? now - h.broker.downSinceMs : 0;
  if (downFor > h.maxStallMs)
    reasons.push(`not connected to the MQTT broker for ${seconds(downFor)}; no batch arrives over MQTT`);
  const fullFor = h.backlogFullSinceMs === undefined ? 0 : now - h.backlogFullSinceMs;
  if (fullFor > h.maxStallMs)
    reasons.push(
      `write backlog full for ${seconds(fullFor)} (longer than ingest.maxStallMs): batches are left unacked`,
    );
  return reasons;
}

/** What /health answers for the single processor. */
export type CloudHealth = {
  ok: boolean;
  reasons: string[];
  backlog: number;
  inFlight: number;
  openAlerts: number;
  influx: WriterStatus;
};

/** /health of the single processor from its parts (the ingest exists once started). */
export function cloudHealth(
  parts: {
    readonly writer: Pick<InfluxWriter, 'status'>;
    readonly ingest:
      | { readonly connection: CloudHealthInputs['broker']; readonly backlogFullSinceMs: number | undefined }
      | undefined;
    readonly intake: { readonly backlog: number; readonly inFlight: number };
    readonly alerts: { readonly openCount: number };
  },
  maxStallMs: number,
  now = Date.now(),
): CloudHealth {
  const influx = parts.writer.status();
  const broker = parts.ingest?.connection ?? { connected: false, downSinceMs: undefined };
  const reasons = cloudHealthReasons(
    { influx, broker, backlogFullSinceMs: parts.ingest?.backlogFullSinceMs, maxStallMs },
    now,
  );
  return {
    ok: reasons.length === 0,
    reasons,
    backlog: parts.intake.backlog,
    inFlight: parts.intake.inFlight,
    openAlerts: parts.alerts.openCount,
    influx,
  };
}
