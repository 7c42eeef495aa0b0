import { readFileSync } from 'node:fs';
import { decodeAlert, topics } from '@tributary/firmware-schemas';
import { openedAlerts } from '@tributary/storage';
import mqtt from 'mqtt';
import type { GroundTruth } from './anomalies/plan.js';
import type { ScoredAlert } from './scoring/alerts.js';

/**
 * Where the scorer gets alert openings from: a JSON-lines file (alert events as the cloud
 * publishes them, or just `{device, metric, openedAt}`), the MQTT alert topic, or InfluxDB's
 * `anomaly` measurement. Only openings count; updates and resolutions are skipped.
 */

/** A labels or alerts file that cannot be read as what it should hold. */
export class BadInputError extends Error {
  readonly code = 'bad_input';
}

function jsonLines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, n }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (err) {
        throw new BadInputError(`${path}:${n}: not JSON: ${(err as Error).message}`);
      }
    });
}

export function readLabels(path: string): GroundTruth[] {
  const labels = jsonLines(path) as GroundTruth[];
  for (const [i, l] of labels.entries()) {
    if (
      typeof l.device !== 'string' ||
      typeof l.metric !== 'string' ||
      typeof l.kind !== 'string' ||
      typeof l.start !== 'number' ||
      typeof l.end !== 'number'
    ) {
      throw new BadInputError(`${path}: line ${i + 1} is not a label (device, metric, kind, start, end, magnitude)`);
    }
  }
  return labels;
}

/** Alert openings from a JSON-lines file. */
export function readAlertsFile(path: string): ScoredAlert[] {
  const out: ScoredAlert[] = [];
  for (const [i, v] of jsonLines(path).entries()) {
    const a = v as Partial<ScoredAlert> & { state?: string };
    if (typeof a.device !== 'string' || typeof a.metric !== 'string' || typeof a.openedAt !== 'number')
      throw new BadInputError(`${path}: line ${i + 1} has no device, metric and openedAt`);
    if (a.state === undefined || a.state === 'opened')
      out.push({ device: a.device, metric: a.metric, openedAt: a.openedAt });
  }
  return out;
}

/**
 * Alert openings published on `tributary/v1/alerts/#` while listening: from the subscription
 * (`onSubscribed` is called then) until `stop` resolves (after a duration, or on Ctrl-C).
 */
export async function collectAlertsFromMqtt(
  url: string,
  stop: Promise<void>,
  onSubscribed: () => void = () => undefined,
): Promise<ScoredAlert[]> {
  const client = await mqtt.connectAsync(url, {
    clientId: `tributary-score-${process.pid}-${Date.now().toString(36)}`,
    clean: true,
    reconnectPeriod: 1000,
  });
  const out: ScoredAlert[] = [];
  client.on('message', (_topic, payload) => {
    const r = decodeAlert(payload);
    if (r.ok && r.value.state === 'opened')
      out.push({ device: r.value.device, metric: r.value.metric, openedAt: r.value.openedAt });
  });
  await client.subscribeAsync(topics.alertsPattern, { qos: 1 });
  onSubscribed();
  await stop;
  await client.endAsync();
  return out;
}

/**
 * Alert openings in InfluxDB (the processor's `anomaly` measurement, state `opened`), optionally
 * from a time on, read through the storage schema the processor writes with.
 */
export async function queryAlertsFromInflux(url: string, database: string, sinceMs?: number): Promise<ScoredAlert[]> {
  const alerts = await openedAlerts({ url, database }, sinceMs);
  return alerts.map((a) => ({ device: a.device, metric: a.metric, openedAt: a.openedAt ?? a.at }));
}
