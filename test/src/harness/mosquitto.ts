import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

export interface Mosquitto {
  readonly url: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Mosquitto on a free loopback port. Its defaults would drop QoS 1 messages queued for
 * a slow subscriber (max_queued_messages 1000) and slow QoS 1 publishers (set_tcp_nodelay false);
 * both are set deliberately here (DESIGN.md, "Real parts").
 */
export async function startMosquitto(): Promise<Mosquitto> {
  const binary = which('mosquitto');
  if (binary === undefined) throw new Error('mosquitto was not found: sudo apt-get install -y mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-mosquitto-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 100
set_tcp_nodelay true
log_dest stderr
log_type error
`,
  );
  const url = `mqtt://127.0.0.1:${port}`;
  const proc = new ServerProcess('mosquitto', binary, ['-c', join(dir, 'mosquitto.conf')]);
  const up = async (): Promise<void> => {
    proc.start();
    await waitFor('mosquitto to accept a connection', async () => {
      if (!proc.running) throw new Error(`mosquitto exited: ${proc.recentOutput}`);
      const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      await client.endAsync();
      return true;
    });
  };
  await up();
  return {
    url,
    kill: () => proc.kill(),
    restart: up,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
