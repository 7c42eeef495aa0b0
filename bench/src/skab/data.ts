/**
 * Reading the SKAB pump testbed (see shared/skab/README.md): `;`-separated files, one row a second,
 * eight sensor channels of one machine, with `anomaly` (1 on every row of a fault) and
 * `changepoint` (1 where a fault starts or ends). Rows are kept in file order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { lines, parseNabTimestamp } from '@tributary/cloud-processor';

/** Rows before this index are training rows: the detector sees them, nothing is scored there. */
export const SKAB_TRAINING_ROWS = 400;

/** One run of the testbed: its channels' values per row, and the ground truth per row. */
export interface SkabRun {
  /** `<group>/<file>.csv`, e.g. `valve1/3.csv`. */
  readonly name: string;
  readonly channels: readonly string[];
  /** Row timestamps, ms (the local wall time read as UTC: only spacing matters). */
  readonly ts: readonly number[];
  /** values[c][i]: channel c at row i. */
  readonly values: readonly (readonly number[])[];
  readonly anomaly: readonly number[];
  readonly changepoint: readonly number[];
}

const GROUND_TRUTH = ['anomaly', 'changepoint'];

/** Parses one SKAB file; every error names the file and the line. */
export function parseSkabCsv(text: string, name: string): SkabRun {
  const all = lines(text);
  const header = (all[0] ?? '').split(';').map((h) => h.trim());
  if (header[0] !== 'datetime' || header.length < 2) {
    throw new Error(
      `${name}: expected a header "datetime;<channels>[;anomaly;changepoint]", got ${JSON.stringify(all[0])}`,
    );
  }
  const channelCols = header.map((h, i) => [h, i] as const).filter(([h, i]) => i > 0 && !GROUND_TRUTH.includes(h));
  const anomalyCol = header.indexOf('anomaly');
  const cpCol = header.indexOf('changepoint');
  const ts: number[] = [];
  const values = channelCols.map(() => [] as number[]);
  const anomaly: number[] = [];
  const changepoint: number[] = [];
  for (let i = 1; i < all.length; i++) {
    const cells = all[i]!.split(';');
    const nums = cells.map(Number);
    if (cells.length !== header.length || nums.slice(1).some((x) => !Number.isFinite(x))) {
      throw new Error(`${name}: line ${i + 1} is not ${header.length} fields with numbers: ${JSON.stringify(all[i])}`);
    }
    ts.push(parseNabTimestamp(cells[0]!));
    channelCols.forEach(([, col], c) => values[c]!.push(nums[col]!));
    // Files of normal operation (anomaly-free.csv) carry no ground truth: every row is normal.
    anomaly.push(anomalyCol < 0 ? 0 : nums[anomalyCol]!);
    changepoint.push(cpCol < 0 ? 0 : nums[cpCol]!);
  }
  return { name, channels: channelCols.map(([h]) => h), ts, values, anomaly, changepoint };
}

/** Every run under `dir/data/<group>/` (following symlinks), in a stable order; `groups` limits it. */
export function loadSkab(dir: string, groups?: readonly string[]): SkabRun[] {
  const dataDir = path.join(dir, 'data');
  const runs: SkabRun[] = [];
  for (const group of readdirSync(dataDir)
    .filter((g) => statSync(path.join(dataDir, g)).isDirectory())
    .sort()) {
    if (groups && !groups.includes(group)) continue;
    const files = readdirSync(path.join(dataDir, group)).filter((f) => f.endsWith('.csv'));
    files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const f of files) runs.push(parseSkabCsv(readFileSync(path.join(dataDir, group, f), 'utf8'), `${group}/${f}`));
  }
  if (runs.length === 0) throw new Error(`no SKAB runs under ${dataDir}${groups ? ` in ${groups.join(', ')}` : ''}`);
  return runs;
}

/**
 * Where the SKAB slice is: SKAB_DIR when set, else a `shared/skab` folder beside the repository
 * or one level further up (a worktree); undefined when there is none (it is GPL-3.0 data, not
 * vendored in this repository).
 */
export function defaultSkabDir(repoRoot: string): string | undefined {
  const env = process.env['SKAB_DIR'];
  if (env !== undefined) return env;
  for (const up of ['..', path.join('..', '..')]) {
    const dir = path.resolve(repoRoot, up, 'shared', 'skab');
    if (existsSync(path.join(dir, 'data'))) return dir;
  }
  return undefined;
}
