#!/usr/bin/env node
/** Scores anomaly detectors the NAB way (usage below). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLineError, parseCommandLine } from '@tributary/runtime';
import { loadProcessorConfig } from '@tributary/cloud-processor';
import { detectorPlans, detectors, type DetectorName } from '@tributary/cloud-processor';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { parseResultsCsv } from '@tributary/cloud-processor';
import { formatProfiles } from './report.js';
import { runCorpus } from './run.js';
import { scoreAll, type ScoredFile } from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const USAGE = `usage: node bench/dist/nab/cli.js --results results.csv [--nab-dir DIR]
       node bench/dist/nab/cli.js --detector NAME [--config JSON] [--write results.csv] [--nab-dir DIR]
       node bench/dist/nab/cli.js --processor-config processor.yaml [--nab-dir DIR] [data/CATEGORY/FILE.csv]...

Scores anomaly detectors the NAB way (standard, low FP and low FN profiles).

  --results FILE     scores a results file (file,row,score)
  --detector NAME    runs a registered detector over the corpus, strict streaming
  --config JSON      its settings (JSON; defaults fill the rest), e.g. '{"refractoryPoints":50}'
  --write FILE       also writes its scores as a results file
  --processor-config FILE
                     runs the detector a processor config gives a metric named "value" (what
                     tributary-replay csv runs), over the files named (all when none)
  --nab-dir DIR      the NAB folder (default $NAB_DIR or ../shared/nab)
  -h, --help         prints this and exits

Exit status: 0 when scored, 2 for a bad command line.
`;

function main(): number {
  const { values, positionals } = parseCommandLine('nab', USAGE, {
    allowPositionals: true,
    options: {
      results: { type: 'string' },
      detector: { type: 'string' },
      config: { type: 'string', default: '{}' },
      write: { type: 'string' },
      'nab-dir': { type: 'string' },
      'processor-config': { type: 'string' },
    },
  });
  const modes = [values.results, values.detector, values['processor-config']].filter((m) => m !== undefined).length;
  if (modes !== 1) commandLineError('nab', USAGE, 'give one of --results, --detector or --processor-config');
  if (positionals.length > 0 && values['processor-config'] === undefined)
    commandLineError('nab', USAGE, 'files are named only with --processor-config');
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
  if (values['processor-config'] !== undefined) {
    const loaded = loadProcessorConfig(values['processor-config']);
    if (!loaded.ok) {
      process.stderr.write(`nab: invalid config ${values['processor-config']}: ${loaded.error.message}\n`);
      return 2;
    }
    // NAB scores every row, not alerts: the same detector the live path builds for this metric.
    const plan = detectorPlans(loaded.value.detection)('value');
    const wanted = new Set(positionals.map((f) => f.split('/').slice(-2).join('/')));
    const chosen = wanted.size === 0 ? corpus.files : corpus.files.filter((f) => wanted.has(f.name));
    if (chosen.length < wanted.size) {
      process.stderr.write(
        `nab: not every file is in the NAB corpus at ${corpus.dir} (name them as data/<category>/<file>.csv)\n`,
      );
      return 2;
    }
    files = runCorpus({ ...corpus, files: chosen }, () => plan.create()).files;
    label = `${plan.name} on ${chosen.length} NAB file(s)`;
  } else if (values.results) {
    files = scoresFromResults(corpus, parseResultsCsv(readFileSync(values.results, 'utf8')));
    label = path.basename(values.results);
  } else {
    const name = values.detector as DetectorName;
    const entry = detectors[name] as
      | {
          config: { safeParse(x: unknown): { success: boolean; data?: unknown; error?: { message: string } } };
          create: (c: unknown) => import('@tributary/cloud-processor').Detector;
        }
      | undefined;
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
      for (const f of files)
        for (let i = 0; i < f.scores.length; i++) if (f.scores[i]! !== 0) lines.push(`${f.name},${i},${f.scores[i]}`);
      writeFileSync(values.write, lines.join('\n') + '\n');
    }
  }
  process.stdout.write(formatProfiles(label, scoreAll(files, corpus.profiles)) + '\n');
  return 0;
}

process.exitCode = main();
