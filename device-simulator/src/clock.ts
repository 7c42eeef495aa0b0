/**
 * Simulated time: `startMs` at the moment the clock was made, running `speed` times faster than
 * the wall clock (1 = real time; 1440 = a simulated day per wall-clock minute).
 */
export class SimClock {
  private readonly wallStart: number;

  constructor(
    readonly startMs: number,
    readonly speed: number,
    private readonly wall: () => number = Date.now,
  ) {
    this.wallStart = wall();
  }

  now(): number {
    return this.startMs + (this.wall() - this.wallStart) * this.speed;
  }

  /** Wall-clock milliseconds until simulated time reaches `simMs`. */
  wallDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.now()) / this.speed);
  }
}
