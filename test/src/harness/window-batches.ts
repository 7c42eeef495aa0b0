import { Rng, sensorKinds } from '@tributary/device-simulator';
import { encodeBatch, type BatchEnvelopeInput, type WindowResult } from '@tributary/firmware-schemas';

/** Device models: which metrics a device of the model reports, and its share of the fleet. */
const MODELS: ReadonlyArray<{ prefix: string; metrics: ReadonlyArray<keyof typeof sensorKinds>; share: number }> = [
  { prefix: 'th', metrics: ['temperature', 'humidity'], share: 0.45 },
  { prefix: 'air', metrics: ['co2', 'temperature', 'humidity'], share: 0.15 },
  { prefix: 'baro', metrics: ['pressure'], share: 0.1 },
  { prefix: 'mot', metrics: ['vibration', 'current'], share: 0.3 },
];

interface Series {
  readonly device: string;
  readonly metric: keyof typeof sensorKinds;
  readonly base: number;
  readonly noise: number;
  level: number;
}

export interface WindowBatchOptions {
  /** Series in the whole fleet (approximately: devices carry 1-3 metrics each). */
  readonly series: number;
  readonly agents: number;
  readonly windowMs: number;
  /** Readings per window (the `count` field). */
  readonly readingsPerWindow: number;
  readonly startMs: number;
  readonly seed?: number | string;
  /** Agent ids are `{agentPrefix}-000`…; another prefix is another fleet of agents (their seqs start afresh). */
  readonly agentPrefix?: string;
  /** Chance per window of a spike (4-8 σ), so detectors alert now and then. */
  readonly spikeChance?: number;
}

/**
 * What a fleet's edge agents send the cloud: per agent and per window period, one batch with a
 * window result for each of its series (a realistic mix of sensor kinds, daily cycle, weather
 * walk, noise, rare spikes), counters included. Deterministic for a seed.
 */
export class WindowBatches {
  private readonly byAgent: Series[][] = [];
  private readonly rng: Rng;
  private readonly seqs: number[];
  private round = 0;

  constructor(readonly o: WindowBatchOptions) {
    this.rng = new Rng(o.seed ?? 1);
    for (let a = 0; a < o.agents; a++) this.byAgent.push([]);
    let made = 0;
    for (let d = 0; made < o.series; d++) {
      const model = pickModel(this.rng.next());
      const device = `${model.prefix}-${String(d).padStart(5, '0')}`;
      const agent = d % o.agents;
      for (const metric of model.metrics) {
        const k = sensorKinds[metric];
        const base =
          this.rng.uniform(k.baseline[0], k.baseline[1]) +
          (k.driver ? this.rng.uniform(k.driver.activeLevel[0], k.driver.activeLevel[1]) : 0);
        this.byAgent[agent]!.push({ device, metric, base, noise: k.noise, level: 0 });
        made++;
      }
    }
    this.seqs = this.byAgent.map(() => 0);
  }

  get seriesCount(): number {
    return this.byAgent.reduce((n, s) => n + s.length, 0);
  }

  agentId(a: number): string {
    return `${this.o.agentPrefix ?? 'bench-gw'}-${String(a).padStart(3, '0')}`;
  }

  /** The batches of the next window period, one per agent. */
  next(): BatchEnvelopeInput[] {
    const end = this.o.startMs + (this.round + 1) * this.o.windowMs;
    this.round++;
    const day = Math.sin((2 * Math.PI * (end % 86_400_000)) / 86_400_000);
    return this.byAgent.map((series, a) => ({
      v: 1,
      agent: this.agentId(a),
      site: `site-${a % 4}`,
      seq: this.seqs[a]!++,
      sentAt: end + 500,
      windows: series.map((s) => this.window(s, end, day)),
      counters: {
        messages_received: this.round * series.length * this.o.readingsPerWindow,
        messages_invalid: Math.floor(this.round / 10),
        readings_accepted: this.round * series.length * this.o.readingsPerWindow,
        readings_late: this.round,
        readings_dropped: 0,
        batches_sent: this.round,
      },
    }));
  }

  /** The next period's batches as the bytes an agent publishes. */
  nextPayloads(): Array<{ agent: string; payload: Buffer; windows: number }> {
    return this.next().map((b) => ({
      agent: b.agent,
      payload: Buffer.from(encodeBatch(b)),
      windows: b.windows.length,
    }));
  }

  private window(s: Series, end: number, day: number): WindowResult {
    const r = this.rng;
    s.level = 0.98 * s.level + 0.2 * s.noise * r.normal();
    let mean = s.base + 0.02 * s.base * day + s.level + 0.3 * s.noise * r.normal();
    if (r.chance(this.o.spikeChance ?? 0.0005))
      mean += (r.chance(0.5) ? 1 : -1) * r.uniform(4, 8) * Math.max(s.noise, 0.05 * Math.abs(s.base));
    const n = this.o.readingsPerWindow;
    const sd = s.noise * (0.8 + 0.4 * r.next());
    const q = (z: number): number => round(mean + z * sd);
    return {
      device: s.device,
      metric: s.metric,
      start: end - this.o.windowMs,
      end,
      count: n,
      sum: round(mean * n),
      min: q(-2.4),
      max: q(2.4),
      mean: round(mean),
      m2: round(sd * sd * (n - 1)),
      first: q(r.normal()),
      last: q(r.normal()),
      firstTs: end - this.o.windowMs,
      lastTs: end - 1,
      rev: 0,
      quantiles: { p50: q(0), p90: q(1.28), p99: q(2.33) },
    };
  }
}

function pickModel(u: number): (typeof MODELS)[number] {
  let acc = 0;
  for (const m of MODELS) {
    acc += m.share;
    if (u < acc) return m;
  }
  return MODELS[MODELS.length - 1]!;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
