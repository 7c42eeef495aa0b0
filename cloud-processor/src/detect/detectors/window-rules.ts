import { excursionLaw } from '../stats/gaussian-tail.js';
import {
  formatValue as fmt,
  quiet,
  QUIET_SILENCE,
  verdict,
  type Detector,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import type { Regimes } from '../stats/regimes.js';
import { looksLikeOneLevel } from '../stats/window-shape.js';
import {
  beyondEnvelope,
  LIGHT_TAIL_HISTORY,
  lawSigma,
  lightTailed,
  noiseBesideRamp,
  RAMP_NOISE,
  rampCredit,
  rampShown,
  spreadWithoutFarthest,
} from './window-envelope.js';
import type { WindowRulesConfig } from './window-rules-config.js';
import { LAST_TS, PREV_LAST, PREV_MEAN, PREV_SD, PREV_SIGMA, WindowRulesState } from './window-rules-state.js';

export { WindowRulesConfig } from './window-rules-config.js';

/**
 * Plain rules for window aggregates of a noisy sensor (points with count > 1), the faults a
 * calibrated detector can learn to shrug off when they recur: a single-reading spike or dip (the
 * window's max or min far outside its usual excursion from the mean), a sudden step of the mean,
 * a noise burst (the spread many times its usual), a stuck sensor (identical readings over whole
 * windows, from a series that used to vary) and, through `tick`, a dropout (whole windows missing
 * against the series' own cadence). Each rule is relative to the series' own recent behaviour, so
 * no sensor needs tuning. The series' known levels (Regimes) keep a machine's on/off cycle from
 * looking like steps and bursts: a window whose readings all lie at known levels, or a step that
 * lands on another known level, is the series' normal life. Raw rows (count 1, as in NAB files)
 * get no verdict from these rules.
 */
class WindowRules extends WindowRulesState implements Detector {
  update(p: SeriesPoint): Verdict {
    const lastInterval = this.spoke(p.ts);
    // A raw row (a NAB file's) has no first and last reading: it is no window of readings. An agent's
    // window of one reading (an environment sensor's at minute windows) is, for the stuck rule.
    if ((p.count <= 1 && p.first === undefined) || !Number.isFinite(p.value)) return quiet(p.value);
    const floor = 1e-6 * Math.max(1, Math.abs(p.value));
    const flat = p.max === p.min;
    // A stuck sensor repeats one value across windows: a window of fewer readings than make "all
    // identical" mean stuck on their own is identical when they repeat the previous window's last
    // reading too (at one reading a window every window has min = max, and only the repeat tells).
    const prevLast = this.scalar(PREV_LAST);
    const repeats = flat && p.min === prevLast;
    this.setScalar(PREV_LAST, p.last ?? p.value);
    const few = p.count < this.config.stuckMinReadings;
    // Worked out before `see` (as it asked before changing anything), and only when a run ends: no closure a window.
    const identical = flat && (!few || repeats);
    const endingRunStuckAfter = this.identical.endsRun(identical) ? this.stuckAfter(p.count) : Infinity;
    this.identical.see(identical, Math.min(this.n + 1, this.history), endingRunStuckAfter);
    this.quantum.see(p);
    const level = this.regimes.knownLevelOf(p.value, floor);
    // A window whose readings lie at two known levels (a machine starting or stopping mid-window),
    // or arriving at a known level from elsewhere, is a switch between levels, not a step.
    // Readings all at known levels: an ordinary window, or one straddling a switch the series
    // has made before (a machine starting mid-window); a first switch is news once.
    const low = this.regimes.knownLevelOf(p.min, floor);
    const high = this.regimes.knownLevelOf(p.max, floor);
    const regimes = this.regimes;
    const twoLevels = low >= 0 && high >= 0 && low !== high && distinct(regimes, low, high);
    const straddles = twoLevels && regimes.knownSwitch(low, high);
    const explained = low >= 0 && high >= 0 && (low === high || straddles);
    const before = this.previousLevel === null ? -1 : regimes.slotOf(this.previousLevel);
    const jumped = level >= 0 && before >= 0 && before !== level && distinct(regimes, level, before);
    const switched = straddles || (jumped && regimes.knownSwitch(before, level));
    // A step across missing windows spans their trend too: only consecutive windows are compared.
    // After a window without a value (`heard`) there is no previous reading: not consecutive.
    const consecutive =
      !Number.isNaN(prevLast) &&
      lastInterval !== undefined &&
      this.intervals.length > 0 &&
      lastInterval <= 1.5 * this.intervals.median();
    // Few readings a window: their noise is judged across windows, from the steps between readings.
    if (few) this.scattered().see(p, prevLast, consecutive);
    // The noise to measure against: the known level's, else the median spread of the series' recent
    // ordinary windows (a spike in this window cannot inflate either; one window's spread, from a
    // few readings, would be too noisy a yardstick).
    const prevMean = this.scalar(PREV_MEAN);
    const levelSigma = level >= 0 ? regimes.sigma(level) : undefined;
    const sigma = levelSigma ?? (this.spread.length > 0 ? this.spread.median() : p.stddev > 0 ? p.stddev : undefined);
    const sqrtN = Math.sqrt(p.count);
    // The most surprising rule past its threshold (ratio ≥ 1), its value and its words (written only
    // for a rule that is the best so far: no closure or object per window).
    let bestRatio = 0;
    let bestValue = 0;
    let bestReason: string | undefined;
    // A trend inside the window (a ramp from `first` to `last`) widens it without being noise: a
    // linear ramp of total D adds to the readings' variance (noiseBesideRamp: D²/12 for many
    // readings, 1.9 times that for 5, which read a room filling with CO2 as a noise burst) and D/2
    // to each excursion. Two readings differ by up to 3√2 σ through noise alone, which is no trend
    // (and crediting it would hide that much of every spike and dip). The ramp takes one side's
    // extreme as far beyond the mean as the other end lies this side of it: a dip that is the last
    // reading, the first at the mean, is a dip, not the end of a ramp (rampCredit).
    const endToEnd = p.first !== undefined && p.last !== undefined ? Math.abs(p.last - p.first) : 0;
    const ramp = sigma !== undefined && endToEnd <= RAMP_NOISE * sigma ? 0 : endToEnd;
    const noise = ramp === 0 ? p.stddev : noiseBesideRamp(p.stddev, ramp, p.count);
    const above = ramp === 0 ? 0 : rampCredit(ramp, p, 'min');
    const below = ramp === 0 ? 0 : rampCredit(ramp, p, 'max');
    // Features in units of the level's noise: a machine running and at rest share one history.
    const rise = sigma ? (p.max - p.value - below) / sigma : undefined;
    const drop = sigma ? (p.value - p.min - above) / sigma : undefined;
    const scatter = sigma ? noise / sigma : undefined;
    // A burst is judged on the spread of all but the farthest reading (window-envelope.ts).
    const manyScatter = sigma
      ? Math.min(noise, spreadWithoutFarthest(p.stddev, p.value, p.min, p.max, p.count)) / sigma
      : 0;
    const prevSigma = this.scalar(PREV_SIGMA);
    // Steps from the last ordinary window: a spike's or a switch's window has a displaced mean.
    const step = !Number.isNaN(prevMean) && prevSigma ? ((p.value - prevMean) / prevSigma) * sqrtN : undefined;
    if (this.n >= this.warmup) {
      if (!straddles && rise !== undefined && drop !== undefined && scatter !== undefined) {
        const zRise = beyondEnvelope(this.rise, rise) / this.config.excursionZ;
        if (zRise >= 1 && zRise > bestRatio) {
          bestRatio = zRise;
          bestValue = p.max;
          bestReason = `max ${fmt(p.max)} lies ${fmt(p.max - p.value)} above the window mean ${fmt(p.value)}, far beyond the usual excursion`;
        }
        const zDrop = beyondEnvelope(this.drop, drop) / this.config.excursionZ;
        if (zDrop >= 1 && zDrop > bestRatio) {
          bestRatio = zDrop;
          bestValue = p.min;
          bestReason = `min ${fmt(p.min)} lies ${fmt(p.value - p.min)} below the window mean ${fmt(p.value)}, far beyond the usual excursion`;
        }
        const rate = this.config.lightTailAlarmRate;
        if (rate > 0 && this.drop.length >= LIGHT_TAIL_HISTORY) {
          const law = excursionLaw(p.count, rate);
          // In units of the law's noise (lawSigma); a ramp that would end at the extreme only where the
          // other readings show it (rampShown).
          const perLaw = sigma! / lawSigma(sigma!, this.spread);
          const lawRise = (below > 0 && !rampShown(p, 'max', sigma!) ? rise + below / sigma! : rise) * perLaw;
          const riseRatio = lightTailed(this.rise, law) ? lawRise / law.alarm : 0;
          if (riseRatio >= 1 && riseRatio > bestRatio) {
            bestRatio = riseRatio;
            bestValue = p.max;
            bestReason = `max ${fmt(p.max)} lies ${fmt(p.max - p.value)} above the window mean ${fmt(p.value)}, ${lawRise.toFixed(1)}σ of the level's noise (no less than the series' usual spread)`;
          }
          const lawDrop = (above > 0 && !rampShown(p, 'min', sigma!) ? drop + above / sigma! : drop) * perLaw;
          const dropRatio = lightTailed(this.drop, law) ? lawDrop / law.alarm : 0;
          if (dropRatio >= 1 && dropRatio > bestRatio) {
            bestRatio = dropRatio;
            bestValue = p.min;
            bestReason = `min ${fmt(p.min)} lies ${fmt(p.value - p.min)} below the window mean ${fmt(p.value)}, ${lawDrop.toFixed(1)}σ of the level's noise (no less than the series' usual spread)`;
          }
        }
        const burst = manyScatter / this.config.burstRatio;
        if (burst >= 1 && burst > bestRatio) {
          bestRatio = burst;
          bestValue = p.value;
          bestReason = `readings scatter ${manyScatter.toFixed(1)}× as much as usual at this level (σ ${fmt(noise)})`;
        }
      }
      const steps = few
        ? this.scattered().surprise(p.count, this.config.burstRatio, BURST_CHANCE, this.warmup)
        : undefined;
      if (steps !== undefined && steps.ratio >= 1 && steps.ratio > bestRatio) {
        bestRatio = steps.ratio;
        bestValue = p.value;
        bestReason = `readings scatter: ${steps.large} of the last ${steps.of} steps between readings ${this.config.burstRatio}× as far from their trend as usual or more`;
      }
      if (step !== undefined && !switched && consecutive) {
        // Against the largest step either way: a room empties in steps as large as those it filled
        // in (its first evening after a weekend, judged against steps down, alarmed on each room).
        const zStep = beyondEnvelope(this.step, Math.abs(step), true) / this.config.zThreshold;
        if (zStep >= 1 && zStep > bestRatio) {
          bestRatio = zStep;
          bestValue = p.value;
          bestReason = `mean ${step > 0 ? 'jumped up' : 'dropped'} by ${fmt(Math.abs(p.value - prevMean))} to ${fmt(p.value)}, far beyond the usual step`;
        }
      }
      const run = this.identical.run;
      const stuckAfter = run > 0 ? this.stuckAfter(p.count) : Infinity;
      // The series varied before: its windows had spread, or (one reading a window, never any
      // spread) the run began after the warm-up's windows, which set the rate of repeats it is
      // judged by (a series constant from its start is constant, not stuck).
      const varied = this.spread.length > 0 ? this.spread.median() > 0 : this.n - run >= this.warmup;
      if (run >= stuckAfter && varied) {
        const longest = this.identical.longest();
        const usual = longest !== undefined ? ` (its longest such run of late: ${longest})` : '';
        const stuck = 1 + (run - stuckAfter) / stuckAfter;
        if (stuck >= 1 && stuck > bestRatio) {
          bestRatio = stuck;
          bestValue = p.value;
          bestReason =
            p.count < this.config.stuckMinReadings
              ? `stuck at ${fmt(p.value)}: ${run} window(s) in a row repeat the reading before them${usual}`
              : `stuck at ${fmt(p.value)}: ${p.count} identical readings, ${run} window(s) in a row${usual}`;
        }
      }
    }
    // Levels are learnt from windows whose readings look like one level (an alarm included: a
    // machine's first start is new once, not forever); the usual excursions, spreads and steps
    // only from ordinary windows, so one fault does not teach the series that faults are usual.
    const oneLevel = !flat && !straddles && looksLikeOneLevel(p, this.quantum.step);
    const ordinary = bestReason === undefined && oneLevel && sigma !== undefined;
    if (jumped) regimes.learnSwitch(before, level);
    if (oneLevel) {
      const levelId = level >= 0 ? regimes.id(level) : -1;
      const joined = regimes.learn(p.value, p.stddev, this.n, floor);
      this.previousLevel = joined;
      // The level's noise as learning left it (it may have been the level joined).
      const noise = level < 0 ? p.stddev : joined === levelId ? regimes.sigma(regimes.slotOf(joined)) : levelSigma!;
      this.setScalar(PREV_MEAN, p.value);
      this.setScalar(PREV_SD, p.stddev);
      this.setScalar(PREV_SIGMA, noise);
    } else if (!explained && !twoLevels) {
      // A window between two known levels keeps where the series came from, so the next one can
      // learn the switch; anything else breaks the thread.
      this.previousLevel = null;
    }
    if (few && bestReason === undefined) this.scattered().learn(this.config.burstRatio);
    if (ordinary) {
      this.rise.push(rise!);
      this.drop.push(drop!);
      this.spread.push(p.stddev);
      if (step !== undefined && !switched && consecutive) this.step.push(step);
    }
    this.n++;
    // A switch between levels the series has switched between before (a machine starting or
    // stopping) is its normal life: say so, so that level and pattern detectors' surprise is explained.
    if (bestReason === undefined)
      return switched && this.n > this.warmup
        ? verdict(0, p.value, 'a known switch between levels', 0, undefined, true)
        : quiet(p.value);
    return this.verdict(bestRatio, bestValue, bestReason);
  }

  /** The series spoke with no value at `ts` (every reading out of range): `tick` measures silence from it. */
  heard(ts: number): void {
    // The next window's first reading follows no reading of this one: it neither repeats nor steps
    // from the one two windows back.
    this.spoke(ts);
    this.setScalar(PREV_LAST, Number.NaN);
  }

  /**
   * The series spoke at `ts`: its cadence and the time silence is measured from. Returns the interval
   * since it last spoke; a time not after that is none and leaves it (a window the ensemble's raw
   * rows close late).
   */
  private spoke(ts: number): number | undefined {
    const lastTs = this.scalar(LAST_TS);
    if (!Number.isNaN(lastTs) && !(ts > lastTs)) return undefined;
    this.setScalar(LAST_TS, ts);
    if (Number.isNaN(lastTs)) return undefined;
    this.intervals.push(ts - lastTs);
    return ts - lastTs;
  }

  /** Whole windows missing at `now` (the earliest time the next window could still arrive). */
  tick(now: number): Verdict {
    const lastTs = this.scalar(LAST_TS);
    if (Number.isNaN(lastTs) || this.intervals.length < 4 || this.n < this.warmup) return QUIET_SILENCE;
    const cadence = this.intervals.median();
    // Only a regular series can be judged by its cadence: a sporadic one has no "overdue".
    if (!(cadence > 0) || this.intervals.quantile(0.9) > 1.5 * cadence) return QUIET_SILENCE;
    const gap = now - lastTs;
    const ratio = gap / cadence / this.config.gapCadences;
    if (ratio < 1) return QUIET_SILENCE;
    return this.verdict(
      ratio,
      Number.NaN,
      `no data for ${Math.round(gap / 60_000)} min (a window usually every ${Math.round(cadence / 60_000)} min)`,
    );
  }
}

/**
 * Two levels a series switches between (a machine at rest and running), as opposed to the
 * neighbouring bands a slowly trending series passes through: their bands do not overlap.
 */
function distinct(regimes: Regimes, a: number, b: number): boolean {
  return Math.abs(regimes.center(a) - regimes.center(b)) > BAND * (regimes.sigma(a) + regimes.sigma(b));
}

const BAND = 6;

/** How rare, at a series' own rate of large changes, a span's large ones must be to be a noise burst (once in a million windows). */
const BURST_CHANCE = 1e-6;

export const createWindowRules: DetectorFactory<WindowRulesConfig> = (config, snapshot, context) =>
  new WindowRules(config, snapshot, context);
