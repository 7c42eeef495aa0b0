import type { AlertEvent, Severity } from '@tributary/firmware-schemas';
import type { AlertLifecycle } from '../alerts/lifecycle.js';
import type { Detection, SeriesInput } from './detection.js';

/** Open alerts and recent transitions, for the API and /metrics (AlertLifecycle is one). */
export interface AlertsView {
  readonly openCount: number;
  /** Open alerts, oldest first. */
  openAlerts(): Array<{
    id: string;
    device: string;
    metric: string;
    detector: string;
    openedAt: number;
    severity: Severity;
  }>;
  /** The latest transitions, newest last. */
  recent(): readonly AlertEvent[];
}

export interface RestoreReport {
  /** Series left out: over the bound, or their metric has another detector now. */
  readonly skipped: number;
  /** Open alerts closed because no restored series watches them (sent with the next batch). */
  readonly alertsClosed: number;
}

/**
 * Detection as a processor runs it: in its own thread (LocalDetection), or spread over worker
 * threads by series (ShardedDetection). Batches are ingested in the order `ingest` is called, each
 * series' points in order; the promise gives the batch's alert transitions. Lifecycle: construct
 * → restoreParts (optional) → ingest… → close.
 */
export interface DetectionRunner {
  /** Worker threads the series are spread over; 0: this thread. */
  readonly workers: number;
  /** Series with detector state (as of the last batch answered). */
  readonly size: number;
  readonly alerts: AlertsView;
  /** As Detection.ingest; rejects when detection failed (a bug, or a worker that died). */
  ingest(agent: string, points: readonly SeriesInput[], complete: number | undefined): Promise<AlertEvent[]>;
  /** Resolves when there is room for another batch (batches being detected are bounded). */
  room(): Promise<void>;
  /** As Detection.snapshotParts (parts may be checkpoint.ts's JsonText: lines already written). */
  snapshotParts(): AsyncIterable<unknown>;
  /** As Detection.restoreParts; undefined when the parts have no header this version reads. */
  restoreParts(parts: Iterable<unknown>, replayFollows?: boolean): Promise<RestoreReport | undefined>;
  /** Lets go of the state (a partition handed over, the processor stopping). */
  close(): Promise<void>;
}

const ROOM: Promise<void> = Promise.resolve();

/** Detection in the calling thread, exactly as it runs without workers: each ingest is done when it returns. */
export class LocalDetection implements DetectionRunner {
  readonly workers = 0;

  constructor(
    readonly detection: Detection,
    readonly alerts: AlertLifecycle,
  ) {}

  get size(): number {
    return this.detection.size;
  }

  ingest(agent: string, points: readonly SeriesInput[], complete: number | undefined): Promise<AlertEvent[]> {
    try {
      return Promise.resolve(this.detection.ingest(agent, points, complete));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  room(): Promise<void> {
    return ROOM;
  }

  async *snapshotParts(): AsyncGenerator<unknown> {
    yield* this.detection.snapshotParts();
  }

  restoreParts(parts: Iterable<unknown>, replayFollows = false): Promise<RestoreReport | undefined> {
    const d = this.detection;
    return Promise.resolve(
      d.restoreParts(parts, replayFollows)
        ? { skipped: d.skippedOnRestore, alertsClosed: d.alertsClosedOnRestore }
        : undefined,
    );
  }

  close(): Promise<void> {
    return ROOM;
  }
}
