import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { which } from './which.js';

/** MQTT remaining length: 1-4 bytes of 7 bits, least significant first (MQTT 3.1.1 section 2.2.3). */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** An MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s) with a username and password when given. */
export function connectPacket(clientId: string, login?: { username: string; password: string }): Buffer {
  const str = (s: string): Buffer => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const flags = 0x02 | (login ? 0xc0 : 0);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    str(clientId),
    ...(login ? [str(login.username), str(login.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

/** A SUBSCRIBE (packet id 1) to one topic filter at `qos`. */
export function subscribePacket(filter: string, qos: 0 | 1): Buffer {
  const topic = Buffer.from(filter);
  const body = Buffer.concat([Buffer.from([0, 1, topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([qos])]);
  return Buffer.concat([Buffer.from([0x82, ...remainingLength(body.length)]), body]);
}

/** A raw TCP connection to a broker on 127.0.0.1, and whether the broker has closed it yet. */
export interface RawConnection {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

export async function rawConnection(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return watched(socket);
}

/** A TLS connection to 127.0.0.1:port once its handshake is done (a client certificate in `options`, if any). */
export async function tlsConnection(port: number, options: ConnectionOptions): Promise<RawConnection> {
  const socket = connectTls({ port, host: '127.0.0.1', ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return watched(socket);
}

function watched(socket: Socket): RawConnection {
  socket.on('error', () => undefined); // a reset by the broker is an outcome the test reads from `closed`
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  return { socket, closed, isClosed: () => isClosed };
}

/**
 * Sends the start of a CONNECT whose fixed header declares `declaredBytes` after it, then
 * `body` (sent as is, never the rest): a client that never finishes logging in. Resolves once the
 * broker has closed the connection or the write has reached the kernel (see unreadBytes).
 */
export async function sendPartialConnect(conn: RawConnection, declaredBytes: number, body: Buffer): Promise<void> {
  // Protocol name, level 4, clean session, keep-alive 60 s: what a real client's CONNECT starts with.
  const start = Buffer.from([0x10, ...remainingLength(declaredBytes), 0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 60]);
  const written = new Promise<void>((resolve) => {
    conn.socket.write(start);
    conn.socket.write(body, () => resolve());
  });
  await Promise.race([written, conn.closed]);
}

/**
 * Bytes that arrived on the TCP connections a server accepted on 127.0.0.1:port and that it has
 * not read yet (the receive queues in /proc/net/tcp): 0 once the server has taken every byte its
 * clients sent, or closed their connections.
 */
export async function unreadBytes(port: number): Promise<number> {
  let sum = 0;
  for (const line of (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue ...
    const [, local, , , queues] = line.trim().split(/\s+/);
    if (local === undefined || queues === undefined || Number.parseInt(local.split(':')[1] ?? '', 16) !== port)
      continue;
    sum += Number.parseInt(queues.split(':')[1] ?? '0', 16);
  }
  return sum;
}

/** Resident memory of a process in bytes (Linux /proc), e.g. a broker's. */
export async function residentBytes(pid: number): Promise<number> {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** A subscriber that reads nothing after its SUBACK: see slowSubscriber. */
export interface SlowSubscriber {
  stop(): void;
}

/**
 * A client that connects to 127.0.0.1:port with a 4 KiB socket receive buffer, subscribes to
 * `filter` and then never reads again, as a dashboard on a stalled laptop would. It is socat's TCP
 * socket (Node cannot set SO_RCVBUF on TCP) whose output goes to a pipe this process stops
 * reading once the CONNACK and SUBACK have come, so the broker's writes to it back up within a
 * few hundred KiB.
 */
export async function slowSubscriber(port: number, filter: string, qos: 0 | 1): Promise<SlowSubscriber> {
  const binary = which('socat');
  if (binary === undefined) throw new Error('socat was not found: sudo apt-get install -y socat');
  const child = spawn(binary, ['-b', '1024', 'STDIO', `TCP:127.0.0.1:${port},rcvbuf=4096`], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const stop = (): void => void child.kill('SIGKILL');
  child.stdin.write(Buffer.concat([connectPacket(`slow-subscriber-${port}`), subscribePacket(filter, qos)]));
  let received = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK from 127.0.0.1:${port}`)), 10_000);
    child.stdout.on('data', function onData(chunk: Buffer) {
      received = Buffer.concat([received, chunk]);
      // CONNACK (4 bytes) then SUBACK (5 bytes) with the granted QoS.
      if (received.length < 9) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.pause();
      if (received[0] !== 0x20 || received[3] !== 0 || received[4] !== 0x90 || received[8] !== qos)
        reject(new Error(`not subscribed: ${received.toString('hex')}`));
      else resolve();
    });
  }).catch((err: unknown) => {
    stop();
    throw err;
  });
  return { stop };
}
