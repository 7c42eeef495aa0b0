import type { WindowInput } from '@tributary/storage';

/**
 * The detector input of recent first emissions, so that a correction of a window (`rev` > 0,
 * re-emitted after late readings) can be stored with what detection judged: live detection judges
 * a window once, at its first emission, and replay must judge the same values (storage's
 * JUDGED_FIELD). Bounded: two generations of at most `maxWindows / 2` each, the older dropped
 * whole when the newer fills (O(1) per window; evicting one by one from a Map's head costs time
 * proportional to the deletions it skips), so the latest `maxWindows / 2` to `maxWindows` are
 * remembered. A correction of a window forgotten is stored without them (counted by the caller).
 */
export class JudgedWindows {
  /** Key → the judged numbers (see pack): about 200 bytes an entry, the input object would take 480. */
  private current = new Map<string, number[]>();
  private previous = new Map<string, number[]>();
  private readonly generation: number;

  constructor(maxWindows: number) {
    this.generation = Math.ceil(maxWindows / 2);
  }

  /** Called with every first emission detection judges. */
  remember(agent: string, input: WindowInput): void {
    if (this.generation === 0) return;
    this.current.set(keyOf(agent, input.device, input.metric, input.ts), pack(input));
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
    }
  }

  /** What was judged of a window (its series, start and end) at its first emission, while it is remembered. */
  judged(
    agent: string,
    w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
  ): WindowInput | undefined {
    const key = keyOf(agent, w.device, w.metric, w.end);
    const packed = this.current.get(key) ?? this.previous.get(key);
    return packed === undefined ? undefined : unpack(packed, w);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** The numbers of a window input, in a packed array of doubles (a missing first or last as NaN). */
function pack(i: WindowInput): number[] {
  return [i.count, i.value, i.min, i.max, i.stddev, i.first ?? Number.NaN, i.last ?? Number.NaN, i.outOfRange ?? 0];
}

function unpack(
  p: readonly number[],
  w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
): WindowInput {
  const [count, value, min, max, stddev, first, last, outOfRange] = p as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    device: w.device,
    metric: w.metric,
    ts: w.end,
    lengthMs: w.end - w.start,
    value,
    min,
    max,
    stddev,
    count,
    ...(Number.isNaN(first) ? {} : { first }),
    ...(Number.isNaN(last) ? {} : { last }),
    outOfRange,
  };
}

const keyOf = (agent: string, device: string, metric: string, end: number): string =>
  `${agent}\u0000${device}\u0000${metric}\u0000${end}`;
