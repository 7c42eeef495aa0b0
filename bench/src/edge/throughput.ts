import { makeCore, payloads, T0 } from './core.js';

export interface CoreFigures {
  readonly core_cold_readings_per_s: number;
  readonly core_readings_per_s_median: number;
  readonly core_readings_per_s_best: number;
  readonly reference_json_parse_readings_per_s_median: number;
  readonly core_windows_emitted: number;
  readonly core_readings_accepted_per_round: number;
}

const MESSAGES = 400_000;
const DEVICES = 5_000;
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Decode (the byte scanner; JSON.parse + the validator for what it leaves) + range filters + windows (with p50/p90/p99
 * sketches) + batcher (batches are not JSON-encoded here: that is the uplink's work) on one core, in process, over 400,000 messages of two readings from 5,000 devices
 * (10,000 series), event time advancing 1 ms a message (windows close every minute of it).
 * Reference, same payloads, same run: Buffer → string → JSON.parse alone. The first round, while
 * the code is still being compiled, is reported apart ("cold"); the median and best are of the
 * rounds after it, which is what an agent that runs for months sees.
 */
export function benchCore(log: (line: string) => void): CoreFigures {
  const input = payloads(MESSAGES, DEVICES, T0, 1);
  const readings = MESSAGES * 2;
  const core: number[] = [];
  const reference: number[] = [];
  let windows = 0;
  let accepted = 0;
  let cold = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    let t = process.hrtime.bigint();
    let sink = 0;
    for (const p of input) sink += (JSON.parse(p.toString('utf8')) as { seq: number }).seq;
    let s = Number(process.hrtime.bigint() - t) / 1e9;
    const referenceRate = readings / s;

    const c = makeCore({ maxSeries: 20_000, encodeBatches: false });
    c.clock.set(T0 + MESSAGES + 10_000);
    t = process.hrtime.bigint();
    for (const p of input) c.pipeline.ingestJson(p, 4096, 'bench');
    s = Number(process.hrtime.bigint() - t) / 1e9;
    if (round === 0) cold = readings / s;
    else {
      core.push(readings / s);
      reference.push(referenceRate);
    }
    c.flush();
    windows = c.out.windows;
    accepted = c.counters.get('readings_accepted');
    const label = round === 0 ? 'cold   ' : `round ${round}`;
    log(
      `  ${label}: core ${Math.round(readings / s).toLocaleString('en')} readings/s, JSON.parse alone ${Math.round(referenceRate).toLocaleString('en')} readings/s (${sink % 2})`,
    );
  }
  if (accepted !== readings) throw new Error(`expected every reading accepted, got ${accepted} of ${readings}`);
  return {
    core_cold_readings_per_s: Math.round(cold),
    core_readings_per_s_median: Math.round(median(core)),
    core_readings_per_s_best: Math.round(Math.max(...core)),
    reference_json_parse_readings_per_s_median: Math.round(median(reference)),
    core_windows_emitted: windows,
    core_readings_accepted_per_round: accepted,
  };
}
