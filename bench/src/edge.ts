#!/usr/bin/env node
/**
 * npm run bench:edge [-- --only core|mqtt|memory|overload|close|wal]
 *
 * The edge agent's figures, each beside a reference measured in the same run (the machine is
 * shared, so absolute numbers are noisy): core pipeline readings/s in process; readings/s through
 * MQTT from a local Mosquitto beside a bare mqtt client; resident memory at 1k/10k/100k active
 * series; memory growth under overload; when the load stops, the time from the last reading to the
 * last window in InfluxDB; the write-ahead log's cost. Ends with one line of JSON with every figure.
 */
import { parseCommandLine } from '@tributary/runtime';
import { benchCore } from './edge/throughput.js';
import { benchMemory, benchOverload } from './edge/memory.js';
import { benchMqtt } from './edge/mqtt.js';
import { benchClose } from './edge/close.js';
import { benchWal } from './edge/wal.js';

const USAGE = `usage: npm run bench:edge [-- --only PARTS]

The edge agent's figures, each beside a reference measured in the same run: the core pipeline in
process, through MQTT from a local Mosquitto, resident memory by active series, memory under
overload, the time from the last reading to the last window in InfluxDB when the load stops, and
the write-ahead log's cost. Ends with one line of JSON (docs/benchmarks.md).

      --only PARTS   these parts only, comma-separated: core, mqtt, memory, overload, close, wal
  -h, --help         prints this and exits
`;

const { values } = parseCommandLine('bench:edge', USAGE, { options: { only: { type: 'string' } } });
const parts =
  values.only === undefined ? ['core', 'mqtt', 'memory', 'overload', 'close', 'wal'] : values.only.split(',');
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const figures: Record<string, number | string> = {};

if (parts.includes('core')) {
  log('core pipeline in process (decode + validate + filter + window), one core:');
  Object.assign(figures, benchCore(log));
}
if (parts.includes('mqtt')) {
  log('through MQTT from a local Mosquitto:');
  Object.assign(figures, await benchMqtt(log));
}
if (parts.includes('memory')) {
  log('resident memory by active series (a child process each, after GC):');
  Object.assign(figures, await benchMemory(log));
}
if (parts.includes('overload')) {
  log('overload: twice the sustainable rate, memory at simulated minute 2 and 20:');
  Object.assign(figures, await benchOverload(log));
}
if (parts.includes('close')) {
  log('when the load stops (idle progress), through aedes and the cloud into influxd:');
  Object.assign(figures, await benchClose(log));
}
if (parts.includes('wal')) {
  log('the write-ahead log (10 ms group commit) beside none:');
  Object.assign(figures, await benchWal(log));
}
process.stdout.write(`${JSON.stringify(figures)}\n`);
