#!/usr/bin/env node
/**
 * tributary-sim run   --url mqtt://127.0.0.1:1883 [--devices 50] [--seed 1] [--duration 1d]
 *                     [--speed 1440 | --realtime] [--period 15s] [--anomaly-rate 0.5]
 *                     [--labels labels.jsonl] [--qos 1]
 * tributary-sim score --labels labels.jsonl --alerts alerts.jsonl [--window 5m]
 *
 * `run` plays a fleet and writes its ground truth (one JSON line per injected anomaly).
 * `score` compares alerts (JSON lines with device, metric, state, openedAt) with the ground truth.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SimClock } from './clock.js';
import { parseDuration } from './duration.js';
import { Fleet } from './fleet.js';
import { scoreAlerts, type ScoredAlert } from './score.js';
import { Simulator } from './simulator.js';
import { MqttTransport } from './transports/mqtt.js';
import type { GroundTruth } from './anomalies.js';
import { anomalyKinds } from './anomalies.js';

function fail(message: string): never {
  process.stderr.write(`tributary-sim: ${message}\n`);
  process.exit(2);
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) fail(`--${name} ${JSON.stringify(text)} is not a duration such as 90s, 15m, 2h or 1d`);
  return ms;
}

function number(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) fail(`--${name} ${JSON.stringify(text)} must be a number ≥ ${min}`);
  return n;
}

const readLines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

const [command, ...rest] = process.argv.slice(2);
if (command === 'run') {
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string', default: '1d' },
      speed: { type: 'string', default: '1440' },
      realtime: { type: 'boolean', default: false },
      period: { type: 'string', default: '15s' },
      'anomaly-rate': { type: 'string', default: '0.5' },
      labels: { type: 'string', default: 'labels.jsonl' },
      qos: { type: 'string', default: '1' },
    },
  });
  const durationMs = duration('duration', values.duration);
  const speed = values.realtime ? 1 : number('speed', values.speed, 1);
  const periodMs = duration('period', values.period);
  // Accelerated runs play the day that just ended, so timestamps never lie in the agent's future.
  const startMs = Math.floor((Date.now() - (speed > 1 ? durationMs : 0)) / periodMs) * periodMs;
  const fleet = new Fleet({
    devices: number('devices', values.devices, 1),
    seed: values.seed,
    startMs,
    durationMs,
    samplePeriodMs: periodMs,
    anomalies: { ratePerDay: number('anomaly-rate', values['anomaly-rate'], 0), kinds: anomalyKinds, warmupMs: 2 * 3_600_000, gapMs: 3_600_000 },
  });
  writeFileSync(values.labels, fleet.labels.map((l) => JSON.stringify(l)).join('\n') + (fleet.labels.length ? '\n' : ''));
  const transport = await MqttTransport.connect({ url: values.url, qos: values.qos === '0' ? 0 : 1 });
  const sim = new Simulator(fleet, new SimClock(startMs, speed), transport);
  process.on('SIGINT', () => sim.stop());
  const stats = await sim.run();
  await transport.close();
  process.stdout.write(`${JSON.stringify({ messages: stats.messages, readings: stats.readings, anomalies: fleet.labels.length, labels: values.labels })}\n`);
} else if (command === 'score') {
  const { values } = parseArgs({ args: rest, options: { labels: { type: 'string' }, alerts: { type: 'string' }, window: { type: 'string', default: '5m' } } });
  if (values.labels === undefined || values.alerts === undefined) fail('score needs --labels and --alerts');
  const windowMs = duration('window', values.window);
  const labels = readLines<GroundTruth>(values.labels);
  const alerts = readLines<ScoredAlert & { state?: string }>(values.alerts).filter((a) => a.state === undefined || a.state === 'opened');
  process.stdout.write(`${JSON.stringify(scoreAlerts(labels, alerts, { earlyMs: windowMs, lateMs: 2 * windowMs }), null, 2)}\n`);
} else {
  fail('usage: tributary-sim run|score [options]  (see the comment at the top of cli.ts)');
}
