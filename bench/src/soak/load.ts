/**
 * load.js PORT RATE DURATION_MS DEVICES CONNECTIONS METRICS — offers telemetry to an MQTT broker
 * (the agent's mqtt-broker source) at RATE messages/s (0: as fast as the broker takes them), QoS 0,
 * for DURATION_MS, over CONNECTIONS raw TCP connections; then exits.
 *
 * Each message is one device's METRICS readings without a timestamp (the agent stamps arrival time),
 * so every packet is built once and written again and again: the generator costs little CPU.
 * Pacing: every 10 ms, what is due by then. A connection whose socket is full is waited for
 * ('drain'): what could not be written then is not offered, and the generator says how far
 * behind it fell. Prints a JSON line each second ({ s, messages }) and one at the end
 * ({ done, messages, readingsPerMessage, behindMs }).
 */
import { connect, type Socket } from 'node:net';
import { connectPacket, remainingLength } from '@tributary/test/harness/mqtt-raw.js';
import { soakMetrics } from './account.js';

const [port, rate, durationMs, devices, connections, metrics] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
  number,
  number,
];

function publish(device: string): Buffer {
  const topic = Buffer.from(`sensors/${device}/telemetry`);
  const payload = Buffer.from(
    JSON.stringify({ device, values: Object.fromEntries(soakMetrics(metrics).map((m, i) => [m, 20 + i / 4])) }),
  );
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, payload]);
  return Buffer.concat([Buffer.from([0x30, ...remainingLength(body.length)]), body]);
}

const packets = Array.from({ length: devices }, (_, i) => publish(`soak-${String(i).padStart(5, '0')}`));

async function open(i: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(connectPacket(`soak-load-${process.pid}-${i}`));
  // A client publishes once its login is accepted (CONNACK 0x20 0x02 _ 0x00): the broker holds
  // what arrives before it to a small budget.
  await new Promise<void>((resolve, reject) =>
    socket.once('data', (d: Buffer) =>
      d[0] === 0x20 && d[3] === 0 ? resolve() : reject(new Error(`connection ${i} refused: ${d.toString('hex')}`)),
    ),
  );
  socket.on('data', () => undefined);
  socket.on('error', (err) => {
    process.stderr.write(`load: connection ${i}: ${err.message}\n`);
    process.exit(1);
  });
  return socket;
}

const sockets = await Promise.all(Array.from({ length: connections }, (_, i) => open(i)));
let messages = 0;
let next = 0;
/** Writes `n` messages, devices in turn, spread over the connections; resolves once the sockets take more. */
async function offer(n: number): Promise<void> {
  const per = Math.ceil(n / sockets.length);
  const waits: Promise<void>[] = [];
  for (let c = 0; c < sockets.length && n > 0; c++) {
    const k = Math.min(per, n);
    const parts: Buffer[] = [];
    for (let j = 0; j < k; j++) parts.push(packets[next++ % packets.length]!);
    n -= k;
    messages += k;
    const socket = sockets[c]!;
    if (!socket.write(Buffer.concat(parts)))
      waits.push(new Promise((resolve) => socket.once('drain', () => resolve())));
  }
  await Promise.all(waits);
}

const started = Date.now();
let behindMs = 0;
let lastReport = started;
while (Date.now() - started < durationMs) {
  const elapsed = Date.now() - started;
  if (rate === 0) await offer(1_000);
  else {
    const due = Math.floor((elapsed / 1000) * rate) - messages;
    if (due > 0) await offer(due);
    const late = Date.now() - started - elapsed;
    if (late > 10) behindMs += late - 10;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (Date.now() - lastReport >= 1000) {
    lastReport = Date.now();
    process.stdout.write(`${JSON.stringify({ s: Math.round((lastReport - started) / 1000), messages })}\n`);
  }
}
// Every message written reaches the broker before the connections close.
await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.end(resolve))));
process.stdout.write(
  `${JSON.stringify({ done: true, messages, readingsPerMessage: metrics, behindMs, seconds: (Date.now() - started) / 1000 })}\n`,
);
