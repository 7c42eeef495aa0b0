import { decodeBatch, topics, type WindowResult } from '@tributary/firmware-schemas';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * Watches the batches agents publish on a broker, as a user could with mosquitto_sub, and keeps
 * the latest revision of every window it saw. Every batch on the wire came out of the agent's
 * spool, so this is the ground truth of what the agent accepted into closed windows.
 */
export class BatchObserver {
  readonly seqs = new Set<number>();
  private readonly windows = new Map<string, WindowResult>();

  private constructor(private readonly client: MqttClient) {}

  static async start(url: string): Promise<BatchObserver> {
    const client = await mqtt.connectAsync(url, {
      clientId: `observer-${process.pid}-${Date.now()}`,
      clean: true,
      reconnectPeriod: 500,
    });
    const observer = new BatchObserver(client);
    client.on('message', (_topic, payload) => observer.record(payload));
    await client.subscribeAsync(topics.batchesPattern, { qos: 1 });
    return observer;
  }

  private record(payload: Buffer): void {
    const r = decodeBatch(payload);
    if (!r.ok) return;
    this.seqs.add(r.value.seq);
    for (const w of r.value.windows) {
      const key = `${w.metric}\u0000${w.device}\u0000${w.end}`;
      const seen = this.windows.get(key);
      if (!seen || w.rev >= seen.rev) this.windows.set(key, w);
    }
  }

  /** The latest revision seen of one window, if any. */
  window(metric: string, device: string, end: number): WindowResult | undefined {
    return this.windows.get(`${metric}\u0000${device}\u0000${end}`);
  }

  /** Σ count of the latest revision of each window, per series `metric/device`. */
  countsBySeries(): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of this.windows.values())
      out.set(`${w.metric}/${w.device}`, (out.get(`${w.metric}/${w.device}`) ?? 0) + w.count);
    return out;
  }

  /** Count of the latest revision of each window seen, keyed `metric/device/end`. */
  windowCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of this.windows.values()) out.set(`${w.metric}/${w.device}/${w.end}`, w.count);
    return out;
  }

  total(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.count;
    return n;
  }

  /** Seqs between the lowest and highest seen that never appeared. */
  missingSeqs(): number[] {
    if (this.seqs.size === 0) return [];
    const sorted = [...this.seqs].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let s = sorted[0]!; s <= sorted.at(-1)!; s++) if (!this.seqs.has(s)) missing.push(s);
    return missing;
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Every window point in InfluxDB as `metric/device/end` → count. */
export async function influxWindows(
  query: (q: string) => Promise<Array<{ name: string; tags?: Record<string, string>; values: unknown[][] }>>,
  metrics: readonly string[],
): Promise<Map<string, number>> {
  const series = await query(`SELECT "count" FROM ${metrics.map((m) => `"${m}"`).join(',')} GROUP BY "device"`);
  const out = new Map<string, number>();
  for (const s of series)
    for (const [time, count] of s.values) out.set(`${s.name}/${s.tags?.device ?? ''}/${Number(time)}`, Number(count));
  return out;
}

/** Σ count per series `metric/device` in InfluxDB, for the given metrics. */
export async function influxCountsBySeries(
  query: (q: string) => Promise<Array<{ name: string; tags?: Record<string, string>; values: unknown[][] }>>,
  metrics: readonly string[],
): Promise<Map<string, number>> {
  const series = await query(`SELECT sum("count") FROM ${metrics.map((m) => `"${m}"`).join(',')} GROUP BY "device"`);
  const out = new Map<string, number>();
  for (const s of series) out.set(`${s.name}/${s.tags?.device ?? ''}`, Number(s.values[0]?.[1] ?? 0));
  return out;
}
