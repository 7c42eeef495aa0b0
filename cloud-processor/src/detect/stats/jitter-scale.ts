/**
 * The long-run typical step of a series: the mean of |x_t − x_{t−1}|, a plain average over the
 * first `spanPoints` steps and an exponentially weighted one after. Detectors floor their local
 * scale (a rolling MAD or σ) at a fraction of it: after a long flat stretch the local scale is 0
 * and every ordinary wiggle would otherwise be "infinitely many σ" away, growing without bound
 * the longer the stretch lasts. Spikes are included on purpose: a series that spikes often has a
 * large typical step, so its spikes are measured against it.
 */
export class JitterScale {
  private n = 0;
  private last = 0;
  private mean = 0;

  constructor(
    private readonly spanPoints: number,
    state?: { n: number; last: number; mean: number },
  ) {
    if (state) {
      this.n = state.n;
      this.last = state.last;
      this.mean = state.mean;
    }
  }

  push(x: number): void {
    if (this.n > 0) {
      const step = Math.abs(x - this.last);
      const a = this.n <= this.spanPoints ? 1 / this.n : 1 / this.spanPoints;
      this.mean += a * (step - this.mean);
    }
    this.last = x;
    this.n++;
  }

  /** The typical step; 0 until two points were seen. */
  get value(): number {
    return this.mean;
  }

  snapshot(): { n: number; last: number; mean: number } {
    return { n: this.n, last: this.last, mean: this.mean };
  }
}
