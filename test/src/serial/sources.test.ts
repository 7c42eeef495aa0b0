import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  FileSource,
  FilterChains,
  IngestPipeline,
  MqttBrokerSource,
  WindowEngine,
  agentCounterHelp,
  type AgentCounter,
} from '@tributary/edge-agent';
import { FileSourceConfig, MqttBrokerSourceConfig, encodeSerialLine } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, silentLogger, systemClock } from '@tributary/runtime';
import mqtt from 'mqtt';
import { waitFor } from '../harness/wait.js';

function core() {
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const engine = new WindowEngine(
    {
      lengthMs: 60_000,
      slideMs: 60_000,
      allowedLatenessMs: 60_000,
      idleAfterMs: 65_000,
      maxSeries: 100,
      onSeriesLimit: 'reject-new',
      lateReadings: 'drop',
      lateHorizonMs: 0,
      maxPanesPerSeries: 8,
      sketchK: 16,
    },
    { window: () => undefined, evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  const pipeline = new IngestPipeline({
    filters: new FilterChains({}),
    windows: engine,
    clock: systemClock,
    maxFutureMs: 60_000,
    counters,
    problems: new ProblemReport(),
  });
  return { counters, pipeline };
}

test('file source: JSON lines from a file, serial lines from stdin; bad and over-long lines are counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'replay.jsonl');
  const ts = Date.now();
  writeFileSync(
    path,
    [
      JSON.stringify({ device: 'a', ts, values: { t: 1, h: 2 } }),
      'not json',
      `{"device":"${'x'.repeat(300)}"}`,
      '',
      JSON.stringify({ device: 'b', values: { t: 3 } }),
    ].join('\n'),
  );
  const { counters, pipeline } = core();
  const file = new FileSource(
    FileSourceConfig.parse({ type: 'file', path, maxLineBytes: 200 }),
    pipeline,
    silentLogger,
  );
  await file.start();
  await file.done();
  await file.stop();
  assert.deepEqual(
    [counters.get('readings_accepted'), counters.get('invalid_bad_json'), counters.get('invalid_framing')],
    [3, 1, 1],
  );

  const serial = core();
  const stdin = Readable.from([
    encodeSerialLine({ device: 'c', ts, values: { t: 1 } }),
    encodeSerialLine({ device: 'c', values: { t: 2 } }),
  ]);
  const fromStdin = new FileSource(
    FileSourceConfig.parse({ type: 'file', path: '-', format: 'serial' }),
    serial.pipeline,
    silentLogger,
    stdin,
  );
  await fromStdin.start();
  await fromStdin.done();
  assert.equal(serial.counters.get('readings_accepted'), 2);
});

test('embedded broker source: sensors publish to the gateway directly', async (t) => {
  const { counters, pipeline } = core();
  const source = new MqttBrokerSource(
    MqttBrokerSourceConfig.parse({ type: 'mqtt-broker', host: '127.0.0.1', port: 0 }),
    pipeline,
    silentLogger,
  );
  await source.start();
  t.after(() => source.stop());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${source.port}`);
  t.after(() => client.endAsync());
  await client.publishAsync('sensors/s1/telemetry', JSON.stringify({ device: 's1', values: { t: 1, h: 2 } }), {
    qos: 1,
  });
  await client.publishAsync('other/topic', JSON.stringify({ device: 's1', values: { t: 1 } }), { qos: 1 });
  await client.publishAsync('sensors/s2/telemetry', '{', { qos: 1 });
  await waitFor(
    'two readings and one bad message',
    () => counters.get('readings_accepted') === 2 && counters.get('invalid_bad_json') === 1,
  );
  assert.equal(counters.get('messages_received'), 2);
});
