/** publisher.js URL MESSAGES DEVICES — publishes telemetry at QoS 1, then exits. */
import mqtt from 'mqtt';

const [url, messagesText, devicesText] = process.argv.slice(2);
const messages = Number(messagesText);
const devices = Number(devicesText);
const client = await mqtt.connectAsync(url!, { clean: true });
const CHUNK = 100;
for (let i = 0; i < messages; i += CHUNK) {
  const end = Math.min(messages, i + CHUNK);
  const ts = Date.now();
  const sent: Promise<unknown>[] = [];
  for (let j = i; j < end; j++) {
    const device = `th-${String(j % devices).padStart(5, '0')}`;
    const body = `{"device":"${device}","ts":${ts},"seq":${Math.floor(j / devices)},"values":{"temperature":${20 + (j % 50) / 10},"humidity":${40 + (j % 200) / 10}}}`;
    sent.push(client.publishAsync(`sensors/${device}/telemetry`, body, { qos: 1 }));
  }
  await Promise.all(sent);
}
await client.endAsync();
