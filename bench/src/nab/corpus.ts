import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, trimFraction, type NabRow } from '@tributary/cloud-processor';
import type { Profile } from './score.js';

/** One labelled NAB series: its rows and its windows as inclusive row ranges. */
export interface NabFile {
  /** `<category>/<file>.csv`, as in NAB's label files. */
  readonly name: string;
  readonly rows: readonly NabRow[];
  readonly windows: readonly (readonly [number, number])[];
}

export interface NabCorpus {
  readonly dir: string;
  readonly files: readonly NabFile[];
  readonly profiles: Readonly<Record<string, Profile>>;
}

/**
 * Maps each window's `[start, end]` timestamps to the rows that carry them. Rows are matched by
 * exact timestamp (the README guarantees each end names a data row, never a repeated one); the
 * end is searched from the start on, so a file that steps back in time still maps to one range.
 */
export function windowsToRows(
  name: string,
  rows: readonly NabRow[],
  windows: readonly (readonly [string, string])[],
): [number, number][] {
  return windows.map(([start, end]) => {
    const s = trimFraction(start);
    const e = trimFraction(end);
    const l = rows.findIndex((r) => r.timestamp === s);
    let r = -1;
    for (let i = Math.max(l, 0); i < rows.length; i++)
      if (rows[i]!.timestamp === e) {
        r = i;
        break;
      }
    if (l < 0 || r < l) throw new Error(`${name}: window [${start}, ${end}] does not match data rows`);
    return [l, r];
  });
}

/** NAB's `profiles.json` → the three weights of each profile (`tnWeight` is unused). */
export function parseProfiles(text: string): Record<string, Profile> {
  const raw = JSON.parse(text) as Record<
    string,
    { CostMatrix: { tpWeight: number; fpWeight: number; fnWeight: number } }
  >;
  const out: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(raw)) {
    out[name] = { tpWeight: p.CostMatrix.tpWeight, fpWeight: p.CostMatrix.fpWeight, fnWeight: p.CostMatrix.fnWeight };
  }
  return out;
}

/**
 * Loads a NAB folder (`data/<category>/*.csv`, `labels/combined_windows.json`,
 * `config/profiles.json`). Files are in sorted order so every run sums in the same order.
 * A data file without a label entry is scored as having no windows.
 */
export function loadCorpus(dir: string): NabCorpus {
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const profiles = parseProfiles(readFileSync(path.join(dir, 'config', 'profiles.json'), 'utf8'));
  const files: NabFile[] = [];
  const dataDir = path.join(dir, 'data');
  // statSync follows symlinks: a category folder may be a link to where the data lives.
  for (const category of readdirSync(dataDir)
    .filter((d) => statSync(path.join(dataDir, d)).isDirectory())
    .sort()) {
    for (const file of readdirSync(path.join(dataDir, category))
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const name = `${category}/${file}`;
      const rows = parseSeriesCsv(readFileSync(path.join(dataDir, category, file), 'utf8'), name);
      files.push({ name, rows, windows: windowsToRows(name, rows, labels[name] ?? []) });
    }
  }
  if (files.length === 0) throw new NabCorpusError(`no NAB data files (data/<category>/*.csv) under ${dataDir}`);
  return { dir, files, profiles };
}

/** A NAB folder that cannot be scored (no data files): a benchmark over it would print 0.00 and mean nothing. */
export class NabCorpusError extends Error {
  readonly code = 'NAB_CORPUS';
}

/**
 * Where the NAB subset is: NAB_DIR when set, else the shared folder beside the repository
 * (`../shared/nab`) when it is there, else the copy vendored in `bench/nab` (the same
 * files, MIT-licensed, so the scorer's golden test and the benchmark run on any clone).
 */
export function defaultNabDir(repoRoot: string): string {
  const env = process.env['NAB_DIR'];
  if (env !== undefined) return env;
  const shared = path.resolve(repoRoot, '..', 'shared', 'nab');
  return existsSync(path.join(shared, 'data')) ? shared : path.resolve(repoRoot, 'bench', 'nab');
}

/** Per-row scores for every file of the corpus from a parsed results file (unlisted rows 0). */
export function scoresFromResults(
  corpus: NabCorpus,
  results: ReadonlyMap<string, ReadonlyMap<number, number>>,
): { name: string; windows: NabFile['windows']; scores: Float64Array }[] {
  for (const name of results.keys()) {
    if (!corpus.files.some((f) => f.name === name)) throw new Error(`results: ${name} is not a file of ${corpus.dir}`);
  }
  return corpus.files.map((f) => {
    const scores = new Float64Array(f.rows.length);
    for (const [row, s] of results.get(f.name) ?? []) {
      if (row >= scores.length) throw new Error(`results: ${f.name} has no row ${row}`);
      scores[row] = s;
    }
    return { name: f.name, windows: f.windows, scores };
  });
}
