import type { Detector, SeriesPoint, Verdict } from './detect/detector.js';

/**
 * Detector state per series (device + metric), bounded by `maxSeries`: beyond it the least
 * recently updated series is evicted (its baseline is lost and relearned if it comes back).
 * Points older than the last one scored for a series (re-sent or corrected windows) are not fed
 * again, so a detector sees each window once and in order.
 */
export class SeriesDetectors {
  private readonly series = new Map<string, { detector: Detector; lastTs: number }>();

  constructor(
    private readonly maxSeries: number,
    private readonly create: (device: string, metric: string) => Detector,
    private readonly onEvicted: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.series.size;
  }

  /** Scores the point, or returns undefined when it is not newer than the series' last point. */
  score(device: string, metric: string, point: SeriesPoint): Verdict | undefined {
    const key = `${device}\u0000${metric}`;
    let s = this.series.get(key);
    if (s !== undefined) {
      if (point.ts <= s.lastTs) return undefined;
      this.series.delete(key); // re-insert below: Map order is recency order
    } else {
      if (this.series.size >= this.maxSeries) {
        this.series.delete(this.series.keys().next().value as string);
        this.onEvicted();
      }
      s = { detector: this.create(device, metric), lastTs: -Infinity };
    }
    this.series.set(key, s);
    s.lastTs = point.ts;
    return s.detector.update(point);
  }
}
