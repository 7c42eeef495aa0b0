#!/usr/bin/env node
/**
 * tributary-sim run   [--fleet fleet.yaml] [flags]     plays a fleet, writes its ground truth
 * tributary-sim score --labels labels.jsonl (--alerts alerts.jsonl | --mqtt URL | --influx URL)
 *
 * `tributary-sim run --help` and `tributary-sim score --help` list the flags.
 */
import { commandLineError, parseCommandLine } from '@tributary/runtime';
import { runCommand } from './cli/run.js';
import { scoreCommand } from './cli/score.js';

const USAGE = `usage: tributary-sim run   [--fleet fleet.yaml] [flags]   plays a fleet, writes its ground truth
       tributary-sim score --labels labels.jsonl (--alerts FILE | --mqtt URL | --influx URL)

  tributary-sim run --help and tributary-sim score --help list the flags of each.
  -h, --help   prints this and exits

Exit status: 0 when done, 2 for a bad command line or fleet file.
`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'run') process.exit(await runCommand(rest));
if (command === 'score') process.exit(await scoreCommand(rest));
// Anything else: --help prints the usage; an unknown command or flag is named.
parseCommandLine('tributary-sim', USAGE, { args: command === undefined ? [] : [command], options: {} });
commandLineError(
  'tributary-sim',
  USAGE,
  command === undefined ? 'say run or score' : `unknown command ${JSON.stringify(command)} (run or score)`,
);
