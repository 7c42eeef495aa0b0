import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Aedes } from 'aedes';
import { MqttUplinkConfig, topics, type Ack } from '@tributary/firmware-schemas';
import { silentLogger, systemClock } from '@tributary/runtime';
import { MqttUplinkTransport } from './mqtt.js';

test('a refused subscription to the acks is not taken for a connection: the uplink reconnects and subscribes again, and the ack arrives', async (t) => {
  // The first SUBSCRIBE to the acks is refused (SUBACK 0x80), as nats-server refuses one when it
  // cannot make the session's consumer (just after a restart, or under load).
  let refusals = 1;
  const broker = await Aedes.createBroker({
    authorizeSubscribe: (_client, sub, done) => {
      if (sub.topic === topics.acks('gw') && refusals > 0) {
        refusals--;
        done(null, null);
      } else done(null, sub);
    },
  });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The cloud: answers each batch with its ack.
  broker.subscribe(
    topics.batches('gw'),
    (packet, done) => {
      const seq = (JSON.parse(packet.payload.toString()) as { seq: number }).seq;
      broker.publish(
        {
          cmd: 'publish',
          topic: topics.acks('gw'),
          payload: Buffer.from(JSON.stringify({ v: 1, agent: 'gw', seq, status: 'ok' })),
          qos: 1,
          retain: false,
          dup: false,
        },
        () => done(),
      );
    },
    () => undefined,
  );

  const config = MqttUplinkConfig.parse({
    type: 'mqtt',
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  const transport = new MqttUplinkTransport(config, 'gw', systemClock, silentLogger);
  // The uplink first (it says goodbye to the broker), then the broker.
  t.after(async () => {
    await transport.stop();
    await new Promise<void>((resolve) => broker.close(() => server.close(() => resolve())));
  });
  const acks: Ack[] = [];
  let connects = 0;
  transport.start({
    connected: () => {
      connects++;
      transport.send(7, JSON.stringify({ v: 1, agent: 'gw', seq: 7 }));
    },
    disconnected: () => undefined,
    answered: (ack) => acks.push(ack),
    failed: () => undefined,
  });
  const deadline = Date.now() + 10_000;
  while (acks.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(refusals, 0, 'the first subscription was refused');
  assert.deepEqual(
    acks.map((a) => a.seq),
    [7],
    'the ack of the batch sent once subscribed arrived',
  );
  assert.equal(connects, 1, 'the uplink said it was up only once subscribed');
});

test('the agent writes its packets without building mqtt-packet’s table of 65,536 numbers (7 MB of a Pi’s heap)', async (t) => {
  // This file's process loads no cloud-processor module: the switch is @tributary/runtime's.
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const received: string[] = [];
  broker.subscribe(
    topics.batches('gw'),
    (packet, done) => {
      received.push(packet.payload.toString());
      done();
    },
    () => undefined,
  );
  const config = MqttUplinkConfig.parse({
    type: 'mqtt',
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  const transport = new MqttUplinkTransport(config, 'gw', systemClock, silentLogger);
  t.after(async () => {
    await transport.stop();
    await new Promise<void>((resolve) => broker.close(() => server.close(() => resolve())));
  });
  transport.start({
    connected: () => transport.send(1, JSON.stringify({ v: 1, agent: 'gw', seq: 1 })),
    disconnected: () => undefined,
    answered: () => undefined,
    failed: () => undefined,
  });
  const deadline = Date.now() + 10_000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(received.length, 1, 'the batch reached the broker');
  const here = createRequire(import.meta.url);
  const copies = new Set<string>();
  for (const user of ['aedes', 'mqtt']) copies.add(createRequire(here.resolve(user)).resolve('mqtt-packet/numbers.js'));
  for (const path of copies) {
    const numbers = here(path) as { cache: Record<number, Buffer> };
    assert.equal(Object.keys(numbers.cache).length, 0, `${path} cached numbers`);
  }
});
