import assert from 'node:assert/strict';
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
