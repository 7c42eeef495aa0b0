import { writeFileSync } from 'node:fs';
import { Rng } from '@tributary/device-simulator';

export interface TelemetryOptions {
  readonly agent: string;
  readonly devices: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly samplePeriodMs: number;
  readonly seed: string;
}

export const TELEMETRY_METRICS = ['temperature', 'humidity'] as const;

/**
 * One agent's telemetry as a JSON-lines file (what its `file` source reads): `devices` devices
 * reporting temperature and humidity every sample period, calm noise with a few steps of many
 * sigma so the detectors alert. Deterministic for a seed. Resolves the readings per series
 * `metric/device`: what the agent accepts, and so what InfluxDB must hold.
 */
export function writeTelemetry(path: string, o: TelemetryOptions): Map<string, number> {
  const rng = new Rng(o.seed);
  const counts = new Map<string, number>();
  const devices = Array.from({ length: o.devices }, (_, i) => ({
    id: `${o.agent}-d${i}`,
    base: [18 + rng.uniform(0, 6), 40 + rng.uniform(0, 20)],
    steps: [] as Array<{ from: number; to: number; by: number }>,
  }));
  for (const d of devices) {
    // Two excursions per device and metric (index 0/1): 20 minutes 12 sigma away.
    for (let k = 0; k < 2; k++) {
      const from = o.startMs + o.durationMs * (0.4 + 0.25 * k) + rng.int(0, 600_000);
      d.steps.push({ from, to: from + 1_200_000, by: k === 0 ? 12 : -12 });
    }
  }
  const lines: string[] = [];
  let seq = 0;
  for (let ts = o.startMs; ts < o.startMs + o.durationMs; ts += o.samplePeriodMs) {
    for (const d of devices) {
      const values: Record<string, number> = {};
      TELEMETRY_METRICS.forEach((metric, m) => {
        const step = d.steps.find((s) => s.from <= ts && ts < s.to && (m === 0 || s.by < 0));
        values[metric] = Math.round((d.base[m]! + 0.2 * rng.normal() + (step ? step.by * 0.2 : 0)) * 1000) / 1000;
        counts.set(`${metric}/${d.id}`, (counts.get(`${metric}/${d.id}`) ?? 0) + 1);
      });
      lines.push(JSON.stringify({ device: d.id, ts, seq: seq++, values }));
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return counts;
}
