import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

/** A pseudo-terminal pair made by socat: bytes written to one end come out of the other. */
export interface PtyPair {
  /** Path of the end the device side writes to. */
  readonly deviceEnd: string;
  /** Path of the end the agent reads, as it would /dev/ttyUSB0. */
  readonly agentEnd: string;
  /** SIGKILL socat: both ends vanish, as when a USB adapter is unplugged. */
  kill(): Promise<void>;
  /** A new pair at the same paths, as when it is plugged in again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPtyPair(): Promise<PtyPair> {
  const binary = which('socat');
  if (binary === undefined) throw new Error('socat was not found: sudo apt-get install -y socat');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pty-'));
  const deviceEnd = join(dir, 'device');
  const agentEnd = join(dir, 'agent');
  const proc = new ServerProcess('socat', binary, [
    '-d',
    '-d',
    `pty,raw,echo=0,link=${deviceEnd}`,
    `pty,raw,echo=0,link=${agentEnd}`,
  ]);
  const up = async (): Promise<void> => {
    proc.start();
    await waitFor('socat to create the pty pair', () => {
      if (!proc.running) throw new Error(`socat exited: ${proc.recentOutput}`);
      return existsSync(deviceEnd) && existsSync(agentEnd);
    });
  };
  await up();
  return {
    deviceEnd,
    agentEnd,
    kill: async () => {
      await proc.kill();
      rmSync(deviceEnd, { force: true });
      rmSync(agentEnd, { force: true });
    },
    restart: up,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
