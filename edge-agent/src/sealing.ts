import { BATCH_FORMAT_VERSION, encodeBatch, type AgentConfig, type WindowResult } from '@tributary/firmware-schemas';
import { type Clock, type Counters } from '@tributary/runtime';
import type { AgentCounter } from './core/counters.js';
import type { EventTimeState } from './core/event-time.js';
import type { WindowEngine } from './core/window-engine.js';
import type { Delivery } from './uplink/delivery.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

export interface SealerOptions {
  readonly config: AgentConfig;
  readonly windows: WindowEngine;
  readonly uplink: Delivery;
  readonly wal: WriteAheadLog | undefined;
  readonly counters: Counters<AgentCounter>;
  readonly clock: Clock;
  /** Seals what the batcher holds (before a marker: it must not claim a window still gathered). */
  readonly sealGathered: () => void;
}

/**
 * Turns the batcher's batches into envelopes and spools them — and, with a write-ahead log, writes
 * a marker before each (what the batch makes safe to forget), then trims the log.
 *
 * The batcher may fill a batch in the middle of a window engine call; those wait here and are
 * sealed in a microtask, once the call has returned, with whatever the batcher still gathers, so
 * every marker describes a state where each window emitted so far is in a spooled batch. When several batches are sealed at once, a device's
 * boundary is claimed only by the marker of the last batch holding one of its windows, and the
 * earlier batches' envelopes and markers repeat the previous watermark: a crash between two of
 * them rebuilds exactly the windows not yet spooled.
 */
export class Sealer {
  private readonly waiting: WindowResult[][] = [];
  private scheduled = false;
  /** The watermark and event-time state of the last batch sealed (what earlier batches of a seal repeat). */
  private sealedWatermark = -Infinity;
  private sealedState: Omit<EventTimeState, 'clocks'> = {
    complete: -Infinity,
    agentTs: -Infinity,
    forgottenFloor: -Infinity,
  };

  constructor(private readonly o: SealerOptions) {}

  /** The batcher's seal: kept until the engine call that filled it has returned. */
  sealed(windows: WindowResult[]): void {
    this.waiting.push(windows);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  /** Seals and spools every batch waiting. Call between two calls of the window engine. */
  drain(): void {
    this.scheduled = false;
    if (this.waiting.length === 0) return;
    if (this.o.wal !== undefined) this.o.sealGathered();
    const batches = this.waiting.splice(0);
    if (batches.length === 0) return;
    const { windows, wal } = this.o;
    const state = wal === undefined ? undefined : windows.timeState(false);
    const lastBatchOf = new Map<string, number>();
    if (state !== undefined) batches.forEach((ws, k) => ws.forEach((w) => lastBatchOf.set(w.device, k)));
    let claimed = 0;
    const claims = state?.clocks.sort(([a], [b]) => (lastBatchOf.get(a) ?? -1) - (lastBatchOf.get(b) ?? -1)) ?? [];
    for (const [k, batch] of batches.entries()) {
      const last = k === batches.length - 1;
      const seq = this.o.uplink.nextSeq();
      if (wal !== undefined && state !== undefined) {
        const from = claimed;
        while (claimed < claims.length && (lastBatchOf.get(claims[claimed]![0]) ?? -1) <= k) claimed++;
        const at = last ? state : this.sealedState;
        wal.marker(
          {
            seq,
            complete: at.complete,
            agentTs: at.agentTs,
            forgottenFloor: at.forgottenFloor,
            clocks: claims.slice(from, claimed),
          },
          last ? () => windows.timeState(true) : undefined,
        );
      }
      this.spool(seq, batch, last ? windows.complete : this.sealedWatermark);
    }
    this.sealedWatermark = windows.complete;
    if (state !== undefined) this.sealedState = state;
    if (wal === undefined) return;
    windows.walTag = wal.gen; // a marker may have begun a segment
    if (wal.segmentCount > 1) wal.trim(windows.oldestOpenTag());
  }

  private spool(seq: number, windows: WindowResult[], watermark: number): void {
    const { agentId, site } = this.o.config;
    const envelope = {
      v: BATCH_FORMAT_VERSION,
      agent: agentId,
      ...(site === undefined ? {} : { site }),
      epoch: this.o.uplink.epoch,
      seq,
      sentAt: this.o.clock.now(),
      ...(Number.isFinite(watermark) ? { watermark } : {}),
      windows,
      counters: this.o.counters.snapshot(),
    };
    let readings = 0;
    for (const w of windows) if (w.rev === 0) readings += w.count;
    this.o.counters.inc('batches_sealed');
    this.o.uplink.enqueue({ seq, windows: windows.length, readings }, encodeBatch(envelope));
  }
}
