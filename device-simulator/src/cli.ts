#!/usr/bin/env node
/**
 * tributary-sim run   [--fleet fleet.yaml] [flags]     plays a fleet, writes its ground truth
 * tributary-sim score --labels labels.jsonl (--alerts alerts.jsonl | --mqtt URL | --influx URL)
 *
 * `tributary-sim run --help` and `tributary-sim score --help` list the flags.
 */
import { runCommand } from './cli/run.js';
import { scoreCommand } from './cli/score.js';

const [command, ...rest] = process.argv.slice(2);
const code = command === 'run' ? await runCommand(rest) : command === 'score' ? await scoreCommand(rest) : usage();
process.exit(code);

function usage(): number {
  process.stderr.write('usage: tributary-sim run|score [--help]\n');
  return 2;
}
