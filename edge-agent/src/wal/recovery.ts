import type { Telemetry } from '@tributary/firmware-schemas';
import type { LoggedMessages } from '../core/pipeline.js';
import type { WindowEngine } from '../core/window-engine.js';
import { decodeMarker, decodeMessages, decodeRestored, EntryKind, type LoggedMessage, type Marker } from './entries.js';
import type { WriteAheadLog } from './write-ahead-log.js';

/** What recovery put back. */
export interface Recovery {
  /** Readings put back into their windows (rebuilt, or replayed after the last spooled batch). */
  readonly readings: number;
  /** Readings the range filter had removed, counted again in their open windows' `outOfRange`. */
  readonly outOfRange: number;
  /** Logged readings that could not be put back (a correction of a window already spooled: re-emit mode). */
  readonly lost: number;
  /** The seq of the last spooled batch the log had a marker for, if any. */
  readonly resumedAfter: number | undefined;
  /** The last messages logged with an origin, for telling a broker's redelivery apart. */
  readonly logged: LoggedMessages;
}

/**
 * Messages a broker may re-deliver after a crash are those it had sent but not seen acknowledged:
 * its in-flight window (tens to hundreds). The last this many logged are kept.
 */
const MAX_REMEMBERED = 4_096;

/**
 * Takes a fresh window engine back to where the crashed run left it, from its write-ahead log:
 *
 * 1. The last marker whose batch is in the spool (`spooledBelow`: seqs below it were appended) says
 *    where event time stood when that batch was sealed: device boundaries (from the last full
 *    marker and the changes after it), `complete`, the agent's event time. Markers of batches the
 *    crash kept out of the spool are ignored: their windows are rebuilt.
 * 2. Readings logged before that marker are put back into their panes without moving any window;
 *    those whose window was emitted (so spooled) are left out.
 * 3. Readings logged after it are added as they came (with their arrival time), closing windows
 *    as they did: those windows go out in new batches.
 *
 * Readings the range filter removed are put back the same way, into their windows' `outOfRange`
 * (a window of those only is then sent as it would have been: count 0, its outOfRange).
 *
 * Sealed windows are never rebuilt (no double count), and every logged reading of a window not
 * spooled is back (none lost), except corrections of spooled windows (re-emit mode), counted.
 */
export function recover(wal: WriteAheadLog, engine: WindowEngine, spooledBelow: number): Recovery {
  let last: { index: number; marker: Marker } | undefined;
  const clocks = new Map<string, number>();
  let index = 0;
  for (const e of wal.entries()) {
    if (e.kind === EntryKind.marker) {
      const m = decodeMarker(e.text);
      if (m !== undefined && m.seq < spooledBelow) {
        if (m.full) clocks.clear();
        for (const [device, closed] of m.clocks) clocks.set(device, closed);
        last = { index, marker: m };
      }
    }
    index++;
  }
  if (last !== undefined) engine.restoreTime({ ...last.marker, clocks: [...clocks] });
  const resumeAt = last?.index ?? -1;
  const remembered = new Map<number, LoggedMessage>();
  let readings = 0;
  let outOfRange = 0;
  let lost = 0;
  index = 0;
  for (const e of wal.entries()) {
    engine.walTag = e.gen;
    if (e.kind === EntryKind.restored) engine.restore(decodeRestored(e.text));
    if (e.kind === EntryKind.readings) {
      for (const m of decodeMessages(e.text)) {
        // In the order they came: at maxSeries it decides which series holds a free slot (see LoggedMessage).
        for (const [metric, value] of m.readings) {
          if (index < resumeAt) {
            if (!engine.rebuild(m.device, metric, m.ts, value, m.now)) continue;
            if (value === undefined) outOfRange++;
            else readings++;
          } else if (value === undefined) {
            if (engine.noteOutOfRange(m.device, metric, m.ts)) outOfRange++;
            else lost++;
          } else if (m.ts < engine.emittedUpTo(m.device)) lost++;
          else if (engine.add(m.device, metric, m.ts, value, m.now) === 'accepted') readings++;
          else lost++;
        }
        if (m.origin !== 0) {
          remembered.delete(m.origin);
          remembered.set(m.origin, m);
          if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as number);
        }
      }
    }
    index++;
  }
  engine.walTag = wal.gen;
  return { readings, outOfRange, lost, resumedAfter: last?.marker.seq, logged: loggedMessages(remembered) };
}

/**
 * A re-delivered message is one logged with the same origin, device, timestamp (if it has one) and
 * values; of the readings the range filter removed only the metric was logged.
 */
function loggedMessages(remembered: Map<number, LoggedMessage>): LoggedMessages {
  return {
    has(origin: number, t: Telemetry): boolean {
      const m = remembered.get(origin);
      if (m === undefined || m.device !== t.device || (t.ts !== undefined && t.ts !== m.ts)) return false;
      for (const [metric, value] of m.readings)
        if (!Object.hasOwn(t.values, metric) || (value !== undefined && t.values[metric] !== value)) return false;
      remembered.delete(origin);
      return true;
    },
  };
}
