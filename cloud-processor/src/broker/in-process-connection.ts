import { Duplex } from 'node:stream';

/**
 * One end of an in-process connection: what one end writes, the other reads. A write completes
 * only once the other end has asked for more (its `_read`), so a reader that stops reading holds
 * the writer up as a full socket would. (Node 22's stream.duplexPair; the agent's floor is Node 20.)
 */
class ConnectionEnd extends Duplex {
  other: ConnectionEnd | undefined;
  /** The write waiting for the other end to read. */
  waiting: (() => void) | undefined;

  override _read(): void {
    const done = this.waiting;
    this.waiting = undefined;
    done?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const other = this.other!;
    if (chunk.length === 0 || other.destroyed) return process.nextTick(done);
    other.push(chunk);
    other.waiting = done;
  }

  override _final(done: (err?: Error | null) => void): void {
    this.other!.push(null);
    done();
  }

  /** A connection closed at one end is closed at both, as a socket's is. */
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.other && !this.other.destroyed) this.other.destroy();
    done(err);
  }
}

/** Two connected ends, as a socket and its peer: for a client in this process of a server in this process. */
export function inProcessConnection(): [Duplex, Duplex] {
  const a = new ConnectionEnd();
  const b = new ConnectionEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
