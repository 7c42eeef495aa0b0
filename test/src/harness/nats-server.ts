import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { natsServerConfig } from '@tributary/cloud-processor';
import { DEFAULT_MAX_BATCH_BYTES } from '@tributary/firmware-schemas';
import { MQTT_PACKET_OVERHEAD_BYTES } from '@tributary/runtime';
import { connect } from 'nats';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

export const NATS_SERVER_MISSING =
  'nats-server was not found. Install it: sudo apt-get install -y nats-server (Debian).';

/** A private nats-server: JetStream with a file store in a temporary directory, the MQTT listener, the partition mapping. */
export interface NatsServer {
  /** For processors (nats://). */
  readonly url: string;
  /** For agents (mqtt://, nats-server's own MQTT listener). */
  readonly mqttUrl: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same ports with the same file store. */
  restart(): Promise<void>;
  /** Stops it and deletes its store. */
  stop(): Promise<void>;
}

/** Starts nats-server on free loopback ports with `partitions` in its batch mapping; stopped in `t.after()` when `t` is given. */
export async function startNatsServer(options: { partitions?: number; t?: TestContext } = {}): Promise<NatsServer> {
  const binary = which('nats-server');
  if (binary === undefined) throw new Error(NATS_SERVER_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-nats-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'nats-server.conf');
  writeFileSync(
    conf,
    natsServerConfig({
      port,
      mqttPort,
      storeDir: join(dir, 'jetstream'),
      partitions: options.partitions ?? 64,
      maxPayloadBytes: DEFAULT_MAX_BATCH_BYTES + MQTT_PACKET_OVERHEAD_BYTES,
    }),
  );
  const url = `nats://127.0.0.1:${port}`;
  const proc = new ServerProcess('nats-server', binary, ['-c', conf]);
  const up = async (): Promise<void> => {
    proc.start();
    await waitFor(
      'nats-server to accept a connection with JetStream',
      async () => {
        if (!proc.running) throw new Error(`nats-server exited: ${proc.recentOutput}`);
        const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
        try {
          await (await nc.jetstreamManager()).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      20_000,
      100,
    );
  };
  await up();
  const server: NatsServer = {
    url,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    dir,
    get pid() {
      return proc.pid;
    },
    kill: () => proc.kill(),
    restart: up,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  options.t?.after(() => server.stop());
  return server;
}
