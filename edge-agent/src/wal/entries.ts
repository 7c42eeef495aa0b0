import type { WindowResult } from '@tributary/firmware-schemas';

/**
 * What the receiver write-ahead log holds, one kind per record (the spool's record format, with
 * the kind in its `windows` field, see spool/record.ts).
 *
 * - `readings`: accepted readings, one line per message:
 *   `device \t ts \t now \t origin \t metric \t value [\t metric \t value]… \n`
 *   (device ids and metric names hold no control characters, so tabs and newlines delimit; numbers
 *   print and parse back exactly). `origin` identifies an MQTT QoS 1 message (source and packet id)
 *   so a redelivery of one already logged is known, or is 0. A reading the range filter removed,
 *   which its open window counts as `outOfRange`, is a line of its own without a value,
 *   `device \t ts \t now \t origin \t metric \n`, in the order it came among the others (replay
 *   must note it before a later reading closes its window). Five fields: a log written before
 *   these lines existed has none, and an agent that predates them skips them (it takes 6 or more).
 *   Consecutive lines of one message (same device, ts, now and origin) are read back as one.
 * - `marker`: a batch was sealed: its seq, and where event time stood (the device boundaries that
 *   moved since the previous marker, `complete`, the agent's event time). A `full` marker (the
 *   first record of each new segment, with the seq of the marker before it) lists every device
 *   boundary above `complete`, so older segments can go with their markers.
 * - `restored`: windows a clean stop flushed open and this run took back (WindowEngine.restore).
 */
export const EntryKind = { readings: 1, marker: 2, restored: 3 } as const;

/** Device boundaries as [device, closed]. */
export type Clocks = Array<[string, number]>;

/** Where event time stood when a batch was sealed (see WindowEngine.timeState). */
export interface EventTimeState {
  readonly complete: number;
  readonly agentTs: number;
  readonly forgottenFloor: number;
  readonly clocks: Clocks;
}

export interface Marker extends EventTimeState {
  readonly seq: number;
  /** Its clocks are every device boundary above `complete`, not only those that moved. */
  readonly full: boolean;
}

/**
 * One logged message: its device, the time its readings are stamped with, the agent clock at
 * arrival, its origin, and its readings in the order they came, each a metric and its value, or
 * undefined for one the range filter removed. The order matters at `maxSeries`: a removed reading
 * takes a free series slot only without evicting (WindowEngine.noteOutOfRange) while an accepted
 * one may evict, so which came first decides which series holds the slot.
 */
export interface LoggedMessage {
  readonly device: string;
  readonly ts: number;
  readonly now: number;
  readonly origin: number;
  readonly readings: Array<[string, number | undefined]>;
}

/** The line of a reading the range filter removed (see `EntryKind`), without its newline. */
export function outOfRangeLine(device: string, ts: number, now: number, origin: number, metric: string): string {
  return `${device}\t${ts}\t${now}\t${origin}\t${metric}`;
}

/** JSON has no infinities: -Infinity (nothing known yet) is written as null. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const orMinusInfinity = (x: unknown): number => (typeof x === 'number' ? x : -Infinity);

export function encodeMarker(m: Marker): string {
  return JSON.stringify({
    seq: m.seq,
    full: m.full,
    complete: finite(m.complete),
    agentTs: finite(m.agentTs),
    forgottenFloor: finite(m.forgottenFloor),
    clocks: m.clocks,
  });
}

export function decodeMarker(text: string): Marker | undefined {
  const v = parseObject(text);
  if (v === undefined || typeof v.seq !== 'number' || !isClocks(v.clocks)) return undefined;
  return {
    seq: v.seq,
    full: v.full === true,
    complete: orMinusInfinity(v.complete),
    agentTs: orMinusInfinity(v.agentTs),
    forgottenFloor: orMinusInfinity(v.forgottenFloor),
    clocks: v.clocks,
  };
}

export function decodeRestored(text: string): WindowResult[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as WindowResult[]) : [];
  } catch {
    return [];
  }
}

/** The messages of a `readings` record; a line that does not parse is skipped (the record's CRC held, so none should). */
export function decodeMessages(text: string): LoggedMessage[] {
  const out: LoggedMessage[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    const removed = f.length === 5;
    if (!removed && (f.length < 6 || f.length % 2 !== 0)) continue;
    const [device, ts, now, origin] = [f[0]!, Number(f[1]), Number(f[2]), Number(f[3])];
    const last = out.at(-1);
    const m =
      last !== undefined && last.device === device && last.ts === ts && last.now === now && last.origin === origin
        ? last
        : { device, ts, now, origin, readings: [] };
    if (m !== last) out.push(m);
    if (removed) m.readings.push([f[4]!, undefined]);
    else for (let i = 4; i < f.length; i += 2) m.readings.push([f[i]!, Number(f[i + 1])]);
  }
  return out;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isClocks(v: unknown): v is Clocks {
  return Array.isArray(v) && v.every((c) => Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'number');
}
