import { SerialPort } from 'serialport';
import type { Frame } from '../device.js';
import type { Transport } from './transport.js';

export interface SerialTransportOptions {
  /** A serial device (`/dev/ttyUSB0`) or one end of a pseudo-terminal pair. */
  readonly path: string;
  readonly baudRate: number;
  /** Bits on the wire per byte: 8N1 framing is a start bit, 8 data bits and a stop bit. */
  readonly bitsPerByte?: number;
  /** Queued bytes, in ms of line time, before `send` makes the simulator wait. */
  readonly maxQueueMs?: number;
}

/**
 * Writes serial lines to a serial port at the rate its baud rate allows (baud / 10 bytes per
 * second with 8N1), so a pseudo-terminal, which has no line speed of its own, behaves like the
 * real wire. A UART paces itself too; pacing here as well only keeps the queue in the simulator.
 * All serial devices share the one port, as on a multi-drop bus or a serial concentrator.
 */
export class SerialTransport implements Transport {
  private readonly msPerByte: number;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  /** Wall time (performance.now) at which the bytes written so far have left the wire. */
  private wireFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: Array<() => void> = [];
  private writing = 0;
  private closed = false;
  bytesWritten = 0;

  private constructor(
    private readonly port: SerialPort,
    private readonly options: SerialTransportOptions,
  ) {
    this.msPerByte = (1000 * (options.bitsPerByte ?? 10)) / options.baudRate;
  }

  static async open(options: SerialTransportOptions): Promise<SerialTransport> {
    // SerialPort.list() needs udevadm; opening a known path does not.
    const port = new SerialPort({ path: options.path, baudRate: options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new SerialTransport(port, options);
  }

  send(frame: Frame): void | Promise<void> {
    if (this.closed) throw new Error('serial transport is closed');
    this.queue.push(frame.payload);
    this.queuedBytes += frame.payload.length;
    this.schedule();
    if (this.queuedBytes * this.msPerByte > (this.options.maxQueueMs ?? 250))
      return new Promise((resolve) => this.waiters.push(resolve));
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    await new Promise<void>((resolve, reject) => this.port.drain((err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  private schedule(): void {
    if (this.timer === undefined) this.timer = setTimeout(this.pump, Math.max(0, this.wireFreeAt - performance.now()));
  }

  /** Writes what the line can carry by now (and 2 ms ahead), then sleeps until the wire is free. */
  private readonly pump = (): void => {
    this.timer = undefined;
    const now = performance.now();
    if (this.wireFreeAt < now) this.wireFreeAt = now;
    let chunk = '';
    while (this.queue.length > 0 && this.wireFreeAt <= now + 2) {
      const line = this.queue.shift()!;
      chunk += line;
      this.queuedBytes -= line.length;
      this.wireFreeAt += line.length * this.msPerByte;
    }
    if (chunk !== '') {
      this.writing++;
      this.bytesWritten += chunk.length;
      this.port.write(chunk, 'latin1', () => {
        this.writing--;
        this.wake();
      });
    }
    if (this.queuedBytes * this.msPerByte <= (this.options.maxQueueMs ?? 250) / 2) this.wake();
    if (this.queue.length > 0) this.schedule();
  };

  private wake(): void {
    if (this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }
}
