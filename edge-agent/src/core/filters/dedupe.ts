import type { FilterEvents, ReadingFilter } from './filter.js';
import { SeriesState } from './series-state.js';

interface Seen {
  /** Highest seq seen, −1 before the first. */
  highest: number;
  /** Event time of the reading with the highest seq. */
  highestTs: number;
  /** Bit (seq mod windowSize) is set when that seq, within the window below `highest`, was seen. */
  bits: number[];
}

/**
 * Drops a reading whose (device, seq) its series has already seen, remembering the last
 * `windowSize` seqs below the highest in a sliding bitmap, as IPsec's anti-replay window does
 * (RFC 4303 §3.4.3). Readings without a seq pass.
 *
 * A seq more than `windowSize` below the highest, or lower than the highest with a newer device
 * timestamp, means the device restarted its counter: the window starts again from it. (A device
 * without a clock cannot be told apart from a redelivery that way; its restart is recognised once
 * its seq falls out of the window.) State: windowSize bits and two numbers per series.
 */
export function dedupeFilter(config: { windowSize: number; maxSeries: number }, events: FilterEvents): ReadingFilter {
  const w = config.windowSize;
  // 30 bits a word keeps every word a small integer (no boxed number), in a plain array: a typed
  // array would cost a few hundred bytes of overhead per series.
  const words = Math.ceil(w / 30);
  const state = new SeriesState<Seen>(
    config.maxSeries,
    () => ({ highest: -1, highestTs: -Infinity, bits: new Array<number>(words).fill(0) }),
    () => events.stateEvicted(),
  );
  const test = (s: Seen, seq: number): boolean => {
    const i = seq % w;
    return (s.bits[Math.floor(i / 30)]! & (1 << (i % 30))) !== 0;
  };
  const set = (s: Seen, seq: number): void => {
    const i = seq % w;
    s.bits[Math.floor(i / 30)]! |= 1 << (i % 30);
  };
  const clear = (s: Seen, seq: number): void => {
    const i = seq % w;
    s.bits[Math.floor(i / 30)]! &= ~(1 << (i % 30));
  };
  const restart = (s: Seen, seq: number, ts: number): void => {
    s.bits.fill(0);
    s.highest = seq;
    s.highestTs = ts;
    set(s, seq);
  };
  return {
    kind: 'dedupe',
    keep(device, metric, ts, _value, seq, stamped) {
      if (seq === undefined) return true;
      const s = state.get(device, metric);
      if (s.highest < 0 || seq <= s.highest - w || (seq < s.highest && stamped && ts > s.highestTs)) {
        restart(s, seq, ts);
        return true;
      }
      if (seq > s.highest) {
        if (seq - s.highest >= w) s.bits.fill(0);
        else for (let q = s.highest + 1; q < seq; q++) clear(s, q);
        clear(s, seq);
        set(s, seq);
        s.highest = seq;
        s.highestTs = ts;
        return true;
      }
      if (test(s, seq)) return false;
      set(s, seq);
      return true;
    },
  };
}
