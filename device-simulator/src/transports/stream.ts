import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Frame } from '../device.js';
import type { Transport } from './transport.js';

/**
 * Writes frames to stdout or a file, one per line: JSON telemetry as JSON lines, serial lines as
 * they are (CR LF included), so the output can be piped into a reader or replayed.
 */
export class StreamTransport implements Transport {
  private blocked: Promise<void> | undefined;

  private constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {}

  static stdout(): StreamTransport {
    return new StreamTransport(process.stdout, false);
  }

  static file(path: string): StreamTransport {
    return new StreamTransport(createWriteStream(path), true);
  }

  send(frame: Frame): void | Promise<void> {
    const ok = this.out.write(frame.format === 'serial' ? frame.payload : `${frame.payload}\n`);
    if (!ok)
      return (this.blocked ??= new Promise<void>((resolve) =>
        this.out.once('drain', () => {
          this.blocked = undefined;
          resolve();
        }),
      ));
  }

  async flush(): Promise<void> {
    if (this.out.writableNeedDrain) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.owned) await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}
