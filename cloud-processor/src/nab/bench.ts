/**
 * `npm run bench:detect`: the default ensemble over every series of the NAB folder in strict
 * streaming (one fresh ensemble per file, rows in order, each row's score taken before the next
 * row is read; the detector never learns a file's length, minimum or maximum), scored with the
 * NAB rules beside the published fixture detectors, plus throughput on one core. Ends with one
 * line of JSON holding the figures.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDetector, DEFAULT_DETECTOR } from '../detect/registry.js';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { parseResultsCsv } from './csv.js';
import { formatProfiles, PROFILE_KEYS } from './report.js';
import { runCorpus } from './run.js';
import { scoreAll, type ProfileResult } from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nabDir = defaultNabDir(repoRoot);
if (!existsSync(path.join(nabDir, 'data'))) {
  process.stderr.write(`bench:detect: no NAB folder at ${nabDir} (set NAB_DIR)\n`);
  process.exit(1);
}
const corpus = loadCorpus(nabDir);
const rows = corpus.files.reduce((s, f) => s + f.rows.length, 0);
const windows = corpus.files.reduce((s, f) => s + f.windows.length, 0);
process.stdout.write(`NAB folder ${nabDir}: ${corpus.files.length} files, ${rows} rows, ${windows} windows\n\n`);

// Scoring run, then two timing runs (the faster is reported: the machine is shared).
const create = () => createDetector(DEFAULT_DETECTOR);
const run = runCorpus(corpus, create);
const ours = scoreAll(run.files, corpus.profiles);
const timings = [run.seconds, runCorpus(corpus, create).seconds, runCorpus(corpus, create).seconds];
const seconds = Math.min(...timings);
const pointsPerS = rows / seconds;

const figures: Record<string, number | string> = { mode: 'strict-streaming', detector: DEFAULT_DETECTOR, files: corpus.files.length, windows };
const lines: string[] = [formatProfiles(`${DEFAULT_DETECTOR} (ours)`, ours)];
for (const [p, key] of PROFILE_KEYS) figures[`nab_${key}`] = round(ours[p]!.normalized);

// The fixture detectors, scored by the same scorer from their published outputs (NAB protocol:
// they had each file's min, max and length in hand).
const fixtures: [string, string, string][] = [
  ['ARTime', 'ARTime_nonzero_scores.csv', 'artime'],
  ['CAD OSE', 'contextOSE_scores_ge_0.70.csv', 'cad_ose'],
];
for (const [label, file, key] of fixtures) {
  const f = path.join(nabDir, 'fixtures', file);
  if (!existsSync(f)) continue;
  const r = scoreAll(scoresFromResults(corpus, parseResultsCsv(readFileSync(f, 'utf8'))), corpus.profiles);
  lines.push(formatProfiles(`${label} (NAB protocol)`, r));
  for (const [p, k] of PROFILE_KEYS) figures[`${key}_${k}`] = round((r[p] as ProfileResult).normalized);
}
process.stdout.write(lines.join('\n\n') + '\n\n');
process.stdout.write(`throughput: ${Math.round(pointsPerS).toLocaleString('en')} points/s on one core (${rows} points in ${seconds.toFixed(2)} s, best of ${timings.length})\n`);
figures['points_per_s'] = Math.round(pointsPerS);
process.stdout.write(JSON.stringify(figures) + '\n');

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
