#!/usr/bin/env node
/**
 * Backtest: feeds stored windows (from InfluxDB) or `timestamp,value` rows (CSV, the NAB format)
 * through the processor's own detection and alert code, and prints the alert transitions that
 * would have fired. Scoring is done by the tools that own the ground truth: `tributary-sim score
 * --labels … --alerts` scores the alerts printed with --json against simulator labels, and the NAB
 * benchmark's CLI (bench/, `--processor-config`) scores CSV files of the NAB corpus.
 */
import type { AlertEvent } from '@tributary/firmware-schemas';
import { commandLineError, parseCommandLine, redactUrl } from '@tributary/runtime';
import { loadProcessorConfig } from '../config.js';
import { influxAuthHeaders } from '../influx/target.js';
import { replay } from './replay.js';
import { fromCsvFiles, fromInflux, influxAuthHeadersFor, type ReplayInput } from './sources.js';

const USAGE = `usage: tributary-replay influx [--url http://127.0.0.1:8086] [--database tributary] [--metric NAME]...
                        [--device ID] [--from 2026-11-20T00:00Z] [--to TIME]
       tributary-replay csv FILE.csv...
  common: [--config processor.yaml] [--json]

Replays stored windows (influx) or timestamp,value rows (csv, the NAB format) through the
processor's detection and alert code and prints the alerts that would have fired.

  influx           reads where the processor config writes (its url, database or bucket and
                   credentials) unless --url or --database say otherwise; the credentials go only
                   to the server of influx.url
  --json           alerts as JSON lines (score them against simulator ground truth with
                   tributary-sim score --labels labels.jsonl --alerts FILE)
  -h, --help       prints this and exits

Exit status: 0 when the replay ran, 2 for a bad command line, config or input.
`;

function die(message: string): never {
  process.stderr.write(`tributary-replay: ${message}\n`);
  process.exit(2);
}

function time(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) die(`--${name} ${JSON.stringify(text)} is not a date (e.g. 2026-11-20T00:00:00Z)`);
  return ms;
}

const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const line = (a: AlertEvent): string =>
  `${stamp(a.at)}  ${a.state.toUpperCase().padEnd(8)} ${a.severity.padEnd(8)} ${a.device} ${a.metric} [${a.detector}]  ${a.message}`;

const { values, positionals } = parseCommandLine('tributary-replay', USAGE, {
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    // Unset: the processor config's (whose defaults are http://127.0.0.1:8086 and tributary).
    url: { type: 'string' },
    database: { type: 'string' },
    metric: { type: 'string', multiple: true, default: [] },
    device: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const [mode, ...csvFiles] = positionals;
if (mode !== 'influx' && mode !== 'csv')
  commandLineError(
    'tributary-replay',
    USAGE,
    mode === undefined ? 'say influx or csv' : `unknown command ${JSON.stringify(mode)} (influx or csv)`,
  );
if (mode === 'influx' && csvFiles.length > 0)
  commandLineError('tributary-replay', USAGE, `influx takes no files (got ${JSON.stringify(csvFiles[0])})`);
const loaded = loadProcessorConfig(values.config);
if (!loaded.ok) die(`invalid config ${values.config ?? '(defaults)'}: ${loaded.error.message}`);
const config = loaded.value;

let input: ReplayInput;
if (mode === 'influx') {
  const url = values.url ?? config.influx.url;
  if (!URL.canParse(url)) die(`--url ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:8086)`);
  const database =
    values.database ??
    (config.influx.api === 'v2' ? (config.influx.bucket ?? config.influx.database) : config.influx.database);
  const headers = influxAuthHeadersFor(url, config.influx);
  if (Object.keys(headers).length === 0 && Object.keys(influxAuthHeaders(config.influx)).length > 0)
    process.stderr.write(
      `tributary-replay: ${redactUrl(url)} is not the server of influx.url: the config's credentials are not sent to it\n`,
    );
  const selection = {
    url,
    database,
    headers,
    metrics: values.metric,
    device: values.device,
    from: time('from', values.from),
    to: time('to', values.to),
  };
  input = await fromInflux(selection).catch((err: Error) =>
    die(`reading ${database} at ${redactUrl(url)}: ${err.message}`),
  );
} else {
  if (csvFiles.length === 0) die('csv needs at least one FILE.csv');
  try {
    input = fromCsvFiles(csvFiles);
  } catch (err) {
    die((err as Error).message);
  }
}

const result = replay(config, input);
for (const a of result.alerts) process.stdout.write(`${values.json ? JSON.stringify(a) : line(a)}\n`);
const opened = result.alerts.filter((a) => a.state === 'opened');
process.stderr.write(
  `replayed ${result.points} points of ${result.series} series in ${result.seconds.toFixed(2)} s: ${opened.length} alerts opened\n`,
);
