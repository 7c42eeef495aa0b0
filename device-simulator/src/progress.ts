import type { RunStats } from './simulator.js';

export interface ProgressLine {
  readonly stats: RunStats;
  readonly devices: number;
  readonly anomalies: number;
  /** Readings per wall-clock second since the previous line. */
  readonly readingsPerSecond: number;
  /** How far simulated time trails where the clock says it should be, ms. */
  readonly lagMs: number;
}

/** One status line, e.g. `2025-03-01 14:05  10000 devices  98,213 readings/s  1,234,567 sent  anomalies 12  malformed 3`. */
export function formatProgress(p: ProgressLine): string {
  const s = p.stats;
  const parts = [
    new Date(s.simTime).toISOString().slice(0, 19).replace('T', ' '),
    `${p.devices} devices`,
    `${Math.round(p.readingsPerSecond).toLocaleString('en')} readings/s`,
    `${s.readings.toLocaleString('en')} readings sent`,
    `anomalies ${p.anomalies}`,
  ];
  if (s.malformed) parts.push(`malformed ${s.malformed}`);
  if (s.duplicates) parts.push(`duplicates ${s.duplicates}`);
  if (s.bursts) parts.push(`burst ${s.bursts}`);
  if (p.lagMs > 1000) parts.push(`behind by ${(p.lagMs / 1000).toFixed(1)} s`);
  return parts.join('  ');
}

/**
 * A progress display that rewrites one terminal line about once a second; it writes nothing when
 * the stream is not a terminal (piped output and logs stay clean).
 */
export class ProgressDisplay {
  private lastAt = 0;
  private lastReadings = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean = out.isTTY === true,
    private readonly intervalMs = 1000,
  ) {}

  update(line: (readingsPerSecond: number) => string, readings: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.lastAt === 0) {
      this.lastAt = now;
      this.lastReadings = readings;
      return;
    }
    if (!force && now - this.lastAt < this.intervalMs) return;
    const rate = ((readings - this.lastReadings) * 1000) / Math.max(1, now - this.lastAt);
    this.lastAt = now;
    this.lastReadings = readings;
    this.out.write(`\r\x1b[2K${line(rate)}`);
    this.shown = true;
  }

  /** Ends the status line so later output starts on a fresh line. */
  done(): void {
    if (this.shown) this.out.write('\n');
    this.shown = false;
  }
}
