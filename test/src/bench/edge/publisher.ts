/** publisher.js URL MESSAGES DEVICES — publishes telemetry at QoS 0 as fast as the socket takes it, then exits. */
import mqtt from 'mqtt';

const [url, messagesText, devicesText] = process.argv.slice(2);
const messages = Number(messagesText);
const devices = Number(devicesText);
const client = await mqtt.connectAsync(url!, { clean: true });
const CHUNK = 500;
for (let i = 0; i < messages; i += CHUNK) {
  const end = Math.min(messages, i + CHUNK);
  const ts = Date.now();
  let last: Promise<unknown> = Promise.resolve();
  for (let j = i; j < end; j++) {
    const d = j % devices;
    const device = `th-${String(d).padStart(5, '0')}`;
    last = client.publishAsync(`sensors/${device}/telemetry`, `{"device":"${device}","ts":${ts},"seq":${Math.floor(j / devices)},"values":{"temperature":${20 + (j % 50) / 10},"humidity":${40 + (j % 200) / 10}}}`, { qos: 0 });
  }
  await last;
}
await client.endAsync();
