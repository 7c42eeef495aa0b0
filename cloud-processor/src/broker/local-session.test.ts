import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topics } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { Aedes } from 'aedes';
import { Intake } from '../ingest/intake.js';
import { MqttIngest } from '../ingest/mqtt.js';
import { LocalSession } from './local-session.js';

test('a batch reaches the intake as the Buffer the broker parsed: no MQTT packet written and parsed again between them', {
  timeout: 30_000,
}, async (t) => {
  const broker = await Aedes.createBroker();
  t.after(() => new Promise<void>((resolve) => broker.close(() => resolve())));
  const received: Uint8Array[] = [];
  const intake = new Intake(10, 1 << 20, (payload) => {
    received.push(payload);
    return Promise.resolve(undefined);
  });
  t.after(() => intake.stop(new Error('test over')));
  const ingest = new MqttIngest(new LocalSession(broker, false), { maxStallMs: 1_000 }, intake, silentLogger, () => {});
  await ingest.start();
  t.after(() => ingest.stop());
  // What aedes does with an agent's PUBLISH once it has parsed it (and authorised it): broker.publish.
  const payload = Buffer.from('{"v":1,"agent":"gw","seq":1}');
  await new Promise<void>((resolve, reject) =>
    broker.publish(
      { cmd: 'publish', topic: topics.batches('gw'), payload, qos: 1, retain: false, dup: false },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  const deadline = Date.now() + 5_000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(received.length, 1);
  // An MQTT client in between (as before) hands over a Buffer of its own, a view of the same
  // bytes: the packet it parsed, after the broker had written it.
  assert.equal(received[0], payload, 'the Buffer the broker holds');
});
