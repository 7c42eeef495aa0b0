import { join } from 'node:path';
import type { WindowResult } from '@tributary/firmware-schemas';
import type { Clock, Logger } from '@tributary/runtime';
import type { AgentReport } from './agent-report.js';
import type { Batching } from './batching.js';
import type { LoggedMessages } from './core/pipeline.js';
import type { WindowEngine } from './core/window-engine.js';
import { OpenWindowsFile } from './open-windows.js';
import type { SpoolRecovery } from './spool/batch-queue.js';
import type { Delivery } from './uplink/delivery.js';
import { recover } from './wal/recovery.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

export interface DurableStateOptions {
  readonly stateDir: string;
  readonly wal: WriteAheadLog | undefined;
  /** Delivery opens the spool (it owns it). */
  readonly uplink: Delivery;
  readonly windows: WindowEngine;
  readonly batching: Batching;
  readonly report: AgentReport;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * What the agent keeps in stateDir across a restart, read in `open` (at start: constructing opens
 * nothing): the receiver write-ahead log, the spool (through Delivery, which owns it) and the
 * windows a clean stop flushed while open (`open-windows.json`). Opening reports what torn writes
 * left, puts back from the log the readings of windows a crash kept out of the spool, and takes
 * back the windows the last stop saved; a clean stop (`close`) saves them, empties the log and
 * closes the spool once the cloud has acked what it could.
 */
export class DurableState {
  /** Windows taken back at start from the previous run's flush. */
  restoredWindows = 0;
  /** Messages the log held at start (a broker may deliver them again after a crash): for the pipeline. */
  readonly logged: LoggedMessages = { has: (origin, t) => this.recovered?.has(origin, t) ?? false };
  private recovered: LoggedMessages | undefined;
  private readonly openWindows: OpenWindowsFile;
  private opened = false;

  constructor(private readonly o: DurableStateOptions) {
    this.openWindows = new OpenWindowsFile(join(o.stateDir, 'open-windows.json'));
  }

  /** At start, before any source: opens the log and the spool, recovers from a crash, takes back open windows. */
  open(): void {
    this.openWal();
    const spool = this.o.uplink.open();
    this.reportSpool(spool);
    this.opened = true;
    this.recoverFromLog(spool.appendedBelow);
    this.restoreOpenWindows();
  }

  /**
   * At a clean stop, once the sources have stopped: every open window is emitted into a last batch
   * and saved (to be taken back at the next start), everything is spooled, and the log emptied.
   * Then waits up to `drainTimeoutMs` for the cloud to ack what is spooled, stops the uplink (which
   * closes the spool) and closes the log. True when the cloud acked everything.
   */
  async close(drainTimeoutMs: number): Promise<boolean> {
    const { batching, uplink, wal, log } = this.o;
    this.saveOpenWindows(batching.flushOpenWindows());
    batching.sealAll();
    // Every reading is in a spooled batch now (and the open windows in their file).
    if (this.opened) wal?.reset();
    const drained = await uplink.drain(drainTimeoutMs);
    if (!drained) log.warn({ queued: uplink.queued }, 'stopping with batches the cloud has not acked');
    await uplink.stop();
    wal?.close();
    return drained;
  }

  private openWal(): void {
    const { wal, report, log } = this.o;
    const o = wal?.open();
    if (o === undefined || o.tornRecords === 0) return;
    report.counters.inc('wal_torn_records', o.tornRecords);
    log.warn(
      { tornRecords: o.tornRecords, problems: o.problems },
      'write-ahead log: cut off damaged records (torn writes; not acknowledged, so sent again)',
    );
  }

  private reportSpool(r: SpoolRecovery): void {
    const { report, log } = this.o;
    if (r.tornRecords > 0) {
      report.counters.inc('spool_torn_records', r.tornRecords);
      log.warn(
        { tornRecords: r.tornRecords, tornBytes: r.tornBytes, problems: r.problems },
        'spool: skipped damaged records (torn writes)',
      );
    }
    if (r.seqsSkipped > 0)
      log.warn(
        { seqsSkipped: r.seqsSkipped },
        'spool: unclean stop with interval fsync; skipping seqs that may have been sent',
      );
    if (r.unacked > 0) log.info({ batches: r.unacked }, 'spool: re-sending batches the cloud had not acked');
  }

  /**
   * After a crash: puts the readings of windows not yet spooled back from the write-ahead log (see
   * recover) and seals what that closes, before any source starts.
   */
  private recoverFromLog(appendedBelow: number): void {
    const { wal, windows, batching, report, log } = this.o;
    if (wal === undefined || wal.opening.bytes === 0) return;
    const r = recover(wal, windows, appendedBelow);
    this.recovered = r.logged;
    batching.sealAll();
    if (r.readings > 0) report.counters.inc('readings_recovered', r.readings);
    if (r.lost > 0) report.counters.inc('readings_lost_at_crash', r.lost);
    log.info(
      {
        readings: r.readings,
        outOfRange: r.outOfRange,
        lost: r.lost,
        afterBatch: r.resumedAfter ?? null,
        walBytes: wal.opening.bytes,
      },
      'write-ahead log: put back the readings of windows not yet spooled',
    );
    if (r.lost > 0)
      log.warn(
        { readings: r.lost },
        'write-ahead log: readings that corrected windows already spooled could not be put back (lost at the crash)',
      );
  }

  /** Takes back the windows the previous run flushed while open (see WindowEngine.restore), logging them. */
  private restoreOpenWindows(): void {
    const windows = this.openWindows.take(this.o.clock.now());
    if (windows.length === 0) return;
    this.o.wal?.restored(JSON.stringify(windows));
    this.restoredWindows = this.o.windows.restore(windows);
    if (this.restoredWindows > 0)
      this.o.log.info({ windows: this.restoredWindows }, 'took back the windows the last stop flushed while open');
  }

  private saveOpenWindows(windows: readonly WindowResult[]): void {
    try {
      this.openWindows.save(windows);
    } catch (err) {
      this.o.log.error(
        { err: (err as Error).message },
        'cannot save the open windows; after the restart they will be sent again partial',
      );
    }
  }
}
