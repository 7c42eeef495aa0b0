import { join } from 'node:path';
import type { Logger } from '@tributary/runtime';
import type { DetectionRunner } from '../detect/detection-runner.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { Dedupe } from './dedupe.js';
import { readState, writeState } from './state-file.js';

/**
 * The single processor's durable state in stateDir: the dedupe state (`dedupe.json`, written when
 * changed, every dedupe.persistIntervalMs) and the detector checkpoint (`detection.json.gz`, every
 * detection.checkpointIntervalMs). Nothing is read before `restore()` (the processor's start).
 * A cluster member keeps the same state in JetStream instead (cluster/store.ts).
 */
export class LocalState {
  private readonly dedupeFile: string;
  private readonly checkpointFile: string;
  /** The checkpoint being written, if one is. */
  private checkpointing: Promise<void> | undefined;

  constructor(
    stateDir: string,
    private readonly parts: { readonly dedupe: Dedupe; readonly detection: DetectionRunner },
    private readonly log: Logger,
  ) {
    this.dedupeFile = join(stateDir, 'dedupe.json');
    this.checkpointFile = join(stateDir, 'detection.json.gz');
  }

  /**
   * Reads both files, before any batch is taken; an unreadable one is logged and its state starts
   * afresh. Detector state goes to wherever detection runs (its worker threads, with workers).
   */
  async restore(): Promise<void> {
    const { dedupe, detection } = this.parts;
    const log = this.log;
    const dedupeState = readState(this.dedupeFile);
    const version = dedupe.restore(dedupeState);
    if (dedupeState !== undefined && version === undefined)
      log.error({ file: this.dedupeFile }, 'dedupe state of an unknown format: duplicates start afresh');
    else if (version !== undefined)
      log.info({ file: this.dedupeFile, agents: dedupe.stats().length, version }, 'dedupe state restored');
    const saved = readCheckpoint(this.checkpointFile);
    if (saved === undefined) return;
    if (!saved.ok) {
      log.error(
        { file: this.checkpointFile, reason: saved.reason },
        'detector checkpoint unreadable: baselines and open alerts start afresh',
      );
      return;
    }
    const restored = await detection.restoreParts(saved.parts);
    if (restored === undefined) {
      log.error(
        { file: this.checkpointFile, damagedLines: saved.badLines() },
        'detector checkpoint has no readable header: baselines and open alerts start afresh',
      );
      return;
    }
    const damaged = saved.badLines();
    (damaged > 0 ? log.warn.bind(log) : log.info.bind(log))(
      {
        series: detection.size,
        openAlerts: detection.alerts.openCount,
        skipped: restored.skipped,
        alertsClosed: restored.alertsClosed,
        damagedLines: damaged,
        workers: detection.workers,
      },
      'detector state restored from checkpoint',
    );
  }

  /** Writes the dedupe state when it changed. */
  saveDedupe(): void {
    if (!this.parts.dedupe.dirty) return;
    try {
      writeState(this.dedupeFile, this.parts.dedupe.snapshot());
    } catch (err) {
      this.log.error({ err: (err as Error).message, file: this.dedupeFile }, 'cannot save dedupe state');
    }
  }

  /** Writes detector state and open alerts, so baselines survive a restart; one at a time (a slow disk must not pile them up). */
  async checkpoint(): Promise<void> {
    if (this.checkpointing) return;
    const t0 = Date.now();
    const { detection } = this.parts;
    this.checkpointing = writeCheckpoint(this.checkpointFile, detection.snapshotParts()).then(
      (bytes) => this.log.debug({ bytes, series: detection.size, ms: Date.now() - t0 }, 'detector checkpoint written'),
      (err: unknown) =>
        this.log.error({ err: (err as Error).message, file: this.checkpointFile }, 'cannot write detector checkpoint'),
    );
    await this.checkpointing;
    this.checkpointing = undefined;
  }

  /** At stop: the dedupe state, and a last checkpoint after any one in progress. */
  async save(): Promise<void> {
    this.saveDedupe();
    await this.checkpointing;
    await this.checkpoint();
  }
}
