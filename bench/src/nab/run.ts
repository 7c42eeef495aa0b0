import { rawPoint, type Detector } from '@tributary/cloud-processor';
import type { NabCorpus } from './corpus.js';
import type { ScoredFile } from './score.js';

/**
 * Strict streaming over one series: a fresh detector, rows fed in order, and each row's score
 * taken from `update` before the next row is seen. The detector is never told the series' length,
 * minimum or maximum.
 */
export function streamScores(rows: readonly { ts: number; value: number }[], create: () => Detector): Float64Array {
  const detector = create();
  const scores = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    scores[i] = detector.update(rawPoint(row.ts, row.value)).score;
  }
  return scores;
}

/** Runs a detector over every file of a corpus; returns the scores and the time it took. */
export function runCorpus(
  corpus: NabCorpus,
  create: () => Detector,
): { files: ScoredFile[]; points: number; seconds: number } {
  const files: ScoredFile[] = [];
  let points = 0;
  const t0 = process.hrtime.bigint();
  for (const f of corpus.files) {
    files.push({ name: f.name, windows: f.windows, scores: streamScores(f.rows, create) });
    points += f.rows.length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { files, points, seconds };
}
