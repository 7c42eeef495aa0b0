#!/usr/bin/env node
/**
 * Scores anomaly detectors the NAB way.
 *
 *   node dist/nab/cli.js --results results.csv       score a results file (file,row,score)
 *   node dist/nab/cli.js --detector ensemble         run a registered detector, strict streaming
 *        [--config '{"refractoryPoints":50}']        its config (JSON; defaults fill the rest: for the
 *                                                    ensemble, the processor's default detection)
 *        [--write results.csv]                       also write its scores as a results file
 *   --nab-dir DIR                                    the NAB folder (default $NAB_DIR or ../shared/nab)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { detectors, type DetectorName } from '../detect/registry.js';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { parseResultsCsv } from './csv.js';
import { formatProfiles } from './report.js';
import { runCorpus } from './run.js';
import { scoreAll, type ScoredFile } from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const USAGE = 'usage: nab --results FILE | --detector NAME [--config JSON] [--write FILE] [--nab-dir DIR]\n';

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        results: { type: 'string' },
        detector: { type: 'string' },
        config: { type: 'string', default: '{}' },
        write: { type: 'string' },
        'nab-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`nab: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.results === !values.detector) {
    process.stderr.write(USAGE);
    return 2;
  }
  let corpus;
  try {
    corpus = loadCorpus(values['nab-dir'] ?? defaultNabDir(repoRoot));
  } catch (err) {
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
      process.stderr.write(`bad --config for ${name}: not JSON (${(err as Error).message})\n`);
      return 2;
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

process.exitCode = main(process.argv.slice(2));
