/**
 * The NAB scoring rules (see shared/nab/README.md, "Scoring rules"; clause numbers below refer
 * to its list). Pure: files and scores in, figures out.
 */

/** A profile's weights (`profiles.json` CostMatrix; `tnWeight` is unused, clause 7). */
export interface Profile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** One file to score: its windows as inclusive row ranges, and a score in [0, 1] per row. */
export interface ScoredFile {
  readonly name: string;
  readonly windows: readonly (readonly [number, number])[];
  readonly scores: ArrayLike<number>;
}

/** A file's figures at the chosen threshold. */
export interface FileResult {
  raw: number;
  windows: number;
  windowsDetected: number;
  tpRows: number;
  fpRows: number;
}

export interface ProfileResult extends FileResult {
  /** The best global threshold; 1.1 means "no detections at all" (clause 8). */
  threshold: number;
  normalized: number;
  nullRaw: number;
  perfectRaw: number;
  perFile: Record<string, FileResult>;
}

/** Threshold that stands for "no detections at all" (clause 8). */
export const NO_DETECTIONS = 1.1;

/** Clause 2: rows before P are not scored. */
export function probationaryRows(n: number): number {
  return Math.min(Math.floor(0.15 * n), 750);
}

/** Clause 3: the scaled sigmoid. */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

const S_MINUS_1 = scaledSigmoid(-1);

/**
 * Clause 4: the weight of a detection at every row, and the window (index into `windows`) each
 * row falls in, or -1 outside windows.
 */
export function rowWeights(
  n: number,
  windows: readonly (readonly [number, number])[],
  p: Profile,
): { weight: Float64Array; window: Int32Array } {
  const weight = new Float64Array(n);
  const window = new Int32Array(n).fill(-1);
  const sorted = windows.map((w, k) => ({ l: w[0], r: w[1], k })).sort((a, b) => a.l - b.l);
  let next = 0;
  let last: { l: number; r: number } | undefined;
  for (let i = 0; i < n; i++) {
    const w = sorted[next];
    if (w && i >= w.l && i <= w.r) {
      const width = w.r - w.l + 1;
      weight[i] = (p.tpWeight * scaledSigmoid(-(w.r - i + 1) / width)) / S_MINUS_1;
      window[i] = w.k;
      if (i === w.r) {
        last = w;
        next++;
      }
    } else if (last) {
      // W′ − 1, not W′: NAB's own scorer divides by the window's length minus one.
      weight[i] = p.fpWeight * scaledSigmoid((i - last.r) / (last.r - last.l));
    } else {
      weight[i] = -p.fpWeight;
    }
  }
  return { weight, window };
}

interface Prepared {
  readonly file: ScoredFile;
  readonly p: number;
  readonly weight: Float64Array;
  readonly window: Int32Array;
}

/** The figures of one file at threshold t (clauses 5–6). */
function fileAt(f: Prepared, t: number, prof: Profile): FileResult {
  const best = new Array<number | undefined>(f.file.windows.length).fill(undefined);
  let raw = 0;
  let tpRows = 0;
  let fpRows = 0;
  for (let i = f.p; i < f.weight.length; i++) {
    if (!(f.file.scores[i]! >= t)) continue;
    const k = f.window[i]!;
    if (k < 0) {
      raw += f.weight[i]!;
      fpRows++;
      continue;
    }
    tpRows++;
    const b = best[k];
    if (b === undefined || f.weight[i]! > b) best[k] = f.weight[i]!;
  }
  let windowsDetected = 0;
  for (const b of best) {
    if (b === undefined) raw -= prof.fnWeight;
    else {
      raw += b;
      windowsDetected++;
    }
  }
  return { raw, windows: best.length, windowsDetected, tpRows, fpRows };
}

function prepare(files: readonly ScoredFile[], prof: Profile): Prepared[] {
  return files.map((file) => {
    const n = file.scores.length;
    return { file, p: probationaryRows(n), ...rowWeights(n, file.windows, prof) };
  });
}

/**
 * The files' figures at a given threshold, file by file and summed, normalised over their windows
 * (clause 9): a threshold fitted elsewhere (cross-validation), or a fixed decision such as opened
 * alerts (score 1 at the rows where an alert opened, threshold 1).
 */
export function scoreAtThreshold(files: readonly ScoredFile[], prof: Profile, threshold: number): ProfileResult {
  const perFile: Record<string, FileResult> = {};
  const sum: FileResult = { raw: 0, windows: 0, windowsDetected: 0, tpRows: 0, fpRows: 0 };
  for (const f of prepare(files, prof)) {
    const r = fileAt(f, threshold, prof);
    perFile[f.file.name] = r;
    sum.raw += r.raw;
    sum.windows += r.windows;
    sum.windowsDetected += r.windowsDetected;
    sum.tpRows += r.tpRows;
    sum.fpRows += r.fpRows;
  }
  const nullRaw = -prof.fnWeight * sum.windows;
  const perfectRaw = prof.tpWeight * sum.windows;
  const normalized = sum.windows === 0 ? 0 : (100 * (sum.raw - nullRaw)) / (perfectRaw - nullRaw);
  return { threshold, ...sum, normalized, nullRaw, perfectRaw, perFile };
}

/**
 * Scores the files under one profile: the exact search for the best global threshold (clause 8)
 * and the normalised score over the windows of these files (clause 9).
 */
export function scoreProfile(files: readonly ScoredFile[], prof: Profile): ProfileResult {
  const prepared = prepare(files, prof);
  let windowCount = 0;
  const base: number[] = [];
  for (const f of prepared) {
    base.push(windowCount);
    windowCount += f.file.windows.length;
  }
  const nullRaw = -prof.fnWeight * windowCount;

  // Every scorable row, highest score first.
  const total = prepared.reduce((s, f) => s + Math.max(0, f.weight.length - f.p), 0);
  const score = new Float64Array(total);
  const weight = new Float64Array(total);
  const win = new Int32Array(total);
  let j = 0;
  prepared.forEach((f, fi) => {
    for (let i = f.p; i < f.weight.length; i++, j++) {
      score[j] = f.file.scores[i]!;
      weight[j] = f.weight[i]!;
      win[j] = f.window[i]! < 0 ? -1 : base[fi]! + f.window[i]!;
    }
  });
  const order = Array.from({ length: total }, (_, k) => k).sort((a, b) => score[b]! - score[a]!);

  // Lower the threshold one distinct score at a time; a window's worth is its best detection.
  const best = new Float64Array(windowCount).fill(Number.NaN);
  let raw = nullRaw;
  let bestRaw = nullRaw;
  let threshold = NO_DETECTIONS;
  for (let k = 0; k < total; ) {
    const t = score[order[k]!]!;
    for (; k < total && score[order[k]!]! === t; k++) {
      const r = order[k]!;
      const w = win[r]!;
      if (w < 0) raw += weight[r]!;
      else if (Number.isNaN(best[w]!)) {
        raw += weight[r]! + prof.fnWeight;
        best[w] = weight[r]!;
      } else if (weight[r]! > best[w]!) {
        raw += weight[r]! - best[w]!;
        best[w] = weight[r]!;
      }
    }
    // Strictly greater: of tied thresholds the highest, met first, is kept.
    if (raw > bestRaw) {
      bestRaw = raw;
      threshold = t;
    }
  }

  // Recompute at the chosen threshold file by file, for exact per-file figures.
  return scoreAtThreshold(files, prof, threshold);
}

/** Scores the files under every profile. */
export function scoreAll(
  files: readonly ScoredFile[],
  profiles: Readonly<Record<string, Profile>>,
): Record<string, ProfileResult> {
  const out: Record<string, ProfileResult> = {};
  for (const [name, p] of Object.entries(profiles)) out[name] = scoreProfile(files, p);
  return out;
}
