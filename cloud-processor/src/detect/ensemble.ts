import { z } from 'zod';
import { scoreFromSurprise, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from './detector.js';
import { createEwma, EwmaConfig } from './ewma.js';
import { createNovelty, NoveltyConfig } from './novelty.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './seasonal.js';

export const EnsembleConfig = z.object({
  alarmSurprise: z.number().positive().default(4),
  refractoryPoints: z.number().int().min(0).default(100),
  refractorySurprise: z.number().positive().default(1.5),
  refractoryMargin: z.number().min(0).default(0.5),
  mode: z.enum(['trigger', 'decay']).default('trigger'),
  decayPerPoint: z.number().min(0).default(0.02),
  emitExcess: z.boolean().default(false),
  level: RobustZScoreConfig.optional(),
  ewma: EwmaConfig.optional(),
  daily: SeasonalConfig.optional(),
  weekly: SeasonalConfig.optional(),
  novelty: NoveltyConfig.optional(),
  weights: z.record(z.string(), z.number()).default({}),
  secondWeight: z.number().min(0).default(0),
  meanWeight: z.number().min(0).default(0),
});
export type EnsembleConfig = z.output<typeof EnsembleConfig>;

interface Member { name: string; det: Detector; weight: number }

class Ensemble implements Detector {
  private readonly members: Member[] = [];
  private n = 0;
  private quietUntil = 0;
  private quietLevel = 0;

  constructor(private readonly config: EnsembleConfig, snapshot?: unknown) {
    const s = snapshot as { members: Record<string, unknown>; n: number; quietUntil: number; quietLevel: number } | undefined;
    const add = (name: string, det: Detector) => this.members.push({ name, det, weight: config.weights[name] ?? 1 });
    if (config.level) add('level', createRobustZScore(config.level, s?.members['level']));
    if (config.ewma) add('ewma', createEwma(config.ewma, s?.members['ewma']));
    if (config.daily) add('daily', createSeasonal(config.daily, s?.members['daily']));
    if (config.weekly) add('weekly', createSeasonal(config.weekly, s?.members['weekly']));
    if (config.novelty) add('novelty', createNovelty(config.novelty, s?.members['novelty']));
    if (s) { this.n = s.n; this.quietUntil = s.quietUntil; this.quietLevel = s.quietLevel; }
  }

  update(point: SeriesPoint): Verdict {
    let best = 0;
    let second = 0;
    let sum = 0;
    let why: Verdict | undefined;
    let whyName = "";
    for (const m of this.members) {
      const v = m.det.update(point);
      const s = (v.surprise ?? 0) * m.weight;
      sum += s;
      if (s > best) { second = best; best = s; why = v; whyName = m.name; } else if (s > second) second = s;
    }
    const i = this.n++;
    let s = best + this.config.secondWeight * second + this.config.meanWeight * (sum / this.members.length);
    if (this.config.mode === 'decay') {
      const m = this.quietLevel;
      this.quietLevel = Math.max(m - this.config.decayPerPoint, s);
      s = s > m + this.config.refractoryMargin ? (this.config.emitExcess ? s - m : s) : 0;
    } else if (i < this.quietUntil && s <= this.quietLevel + this.config.refractoryMargin) s = 0;
    else if (s >= this.config.refractorySurprise) { this.quietUntil = i + 1 + this.config.refractoryPoints; this.quietLevel = s; }
    return { score: scoreFromSurprise(s, this.config.alarmSurprise), value: point.value, reason: why ? `${whyName}: ${why.reason}` : "normal", surprise: s };
  }

  snapshot(): unknown {
    const members: Record<string, unknown> = {};
    for (const m of this.members) members[m.name] = m.det.snapshot();
    return { members, n: this.n, quietUntil: this.quietUntil, quietLevel: this.quietLevel };
  }
}

export const createEnsemble: DetectorFactory<EnsembleConfig> = (config, snapshot) => new Ensemble(config, snapshot);
