#!/usr/bin/env node
/** Scores anomaly detectors the NAB way (usage below). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLineError, parseCommandLine } from '@tributary/firmware-schemas';
import { detectors, type DetectorName } from '../detect/registry.js';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { parseResultsCsv } from './csv.js';
import { formatProfiles } from './report.js';
import { runCorpus } from './run.js';
import { scoreAll, type ScoredFile } from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const USAGE = `usage: node cloud-processor/dist/nab/cli.js --results results.csv [--nab-dir DIR]
       node cloud-processor/dist/nab/cli.js --detector NAME [--config JSON] [--write results.csv] [--nab-dir DIR]

Scores anomaly detectors the NAB way (standard, low FP and low FN profiles).

  --results FILE     scores a results file (file,row,score)
  --detector NAME    runs a registered detector over the corpus, strict streaming
  --config JSON      its settings (JSON; defaults fill the rest), e.g. '{"refractoryPoints":50}'
  --write FILE       also writes its scores as a results file
  --nab-dir DIR      the NAB folder (default $NAB_DIR or ../shared/nab)
  -h, --help         prints this and exits

Exit status: 0 when scored, 2 for a bad command line.
`;

function main(): number {
  const { values } = parseCommandLine('nab', USAGE, {
    options: {
      results: { type: 'string' },
      detector: { type: 'string' },
      config: { type: 'string', default: '{}' },
      write: { type: 'string' },
      'nab-dir': { type: 'string' },
    },
  });
  if (!values.results === !values.detector) commandLineError('nab', USAGE, 'give either --results or --detector');
  let corpus;
  try {
    corpus = loadCorpus(values['nab-dir'] ?? defaultNabDir(repoRoot));
  } catch (err) {
    // A folder without NAB's data is the user's to fix, not a stack trace (and never a score of 0).
    process.stderr.write(`nab: ${(err as Error).message}\n`);
    return 2;
  }
  let files: ScoredFile[];
  let label: string;
  if (values.results) {
    files = scoresFromResults(corpus, parseResultsCsv(readFileSync(values.results, 'utf8')));
    label = path.basename(values.results);
  } else {
    const name = values.detector as DetectorName;
    const entry = detectors[name] as { config: { safeParse(x: unknown): { success: boolean; data?: unknown; error?: { message: string } } }; create: (c: unknown) => import('../detect/detector.js').Detector } | undefined;
    if (!entry) {
      process.stderr.write(`unknown detector ${JSON.stringify(name)}; known: ${Object.keys(detectors).join(', ')}\n`);
      return 2;
    }
    let settings: unknown;
    try {
      settings = JSON.parse(values.config);
    } catch (err) {
      commandLineError('nab', USAGE, `--config is not JSON: ${(err as Error).message}`);
    }
    const parsed = entry.config.safeParse(settings);
    if (!parsed.success) {
      process.stderr.write(`bad --config for ${name}: ${parsed.error?.message}\n`);
      return 2;
    }
    const run = runCorpus(corpus, () => entry.create(parsed.data));
    files = run.files;
    label = `${name} (strict streaming)`;
    if (values.write) {
      const lines = ['file,row,score'];
      for (const f of files) for (let i = 0; i < f.scores.length; i++) if (f.scores[i]! !== 0) lines.push(`${f.name},${i},${f.scores[i]}`);
      writeFileSync(values.write, lines.join('\n') + '\n');
    }
  }
  process.stdout.write(formatProfiles(label, scoreAll(files, corpus.profiles)) + '\n');
  return 0;
}

process.exitCode = main();
