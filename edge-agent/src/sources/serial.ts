import type { SourceConfig } from '@tributary/firmware-schemas';
import { Backoff, type Logger } from '@tributary/runtime';
import { pipeline } from 'node:stream';
import type { SerialPort } from 'serialport';
import type { IngestPipeline } from '../core/pipeline.js';
import { LineFramer } from './line-framer.js';
import { lineSink } from './sink.js';
import type { Source } from './source.js';

type SerialSourceConfig = Extract<SourceConfig, { type: 'serial' }>;

const START_BYTE = '$'.charCodeAt(0);

/**
 * Reads the firmware serial line format from one port (serialport → LineFramer → pipeline).
 * Garbage, bad checksums, truncated and over-long lines are counted and skipped; the framer
 * resynchronises at the next `$`. When the port vanishes (USB unplugged) or cannot be opened,
 * the source logs it once, counts it (`serial_port_lost`) and reopens it with exponential backoff
 * and jitter until it is back; the agent keeps running throughout.
 */
export class SerialSource implements Source {
  readonly name: string;
  private port: SerialPort | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** The port is down and its loss has been logged. */
  private down = false;
  private readonly backoff: Backoff;
  private opened = 0;
  private SerialPortClass: typeof SerialPort | undefined;

  constructor(
    private readonly config: SerialSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
    private readonly onLost: () => void,
  ) {
    this.name = config.name ?? config.path;
    this.backoff = new Backoff(config.reopen.initialMs, config.reopen.maxMs);
  }

  /** Times the port was opened (1 after a clean start; more after reconnects). */
  get opens(): number {
    return this.opened;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Starts reading; resolves at once even when the port is absent (it is retried in the background). */
  async start(): Promise<void> {
    // Loaded here, not at import: an agent without serial sources does not pay for the native binding.
    this.SerialPortClass ??= (await import('serialport')).SerialPort;
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    else port?.destroy();
  }

  private open(): void {
    const { path, baudRate, dataBits, parity, stopBits, maxLineBytes } = this.config;
    const port = new this.SerialPortClass!({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    this.port = port;
    port.open((err) => {
      if (this.stopped || this.port !== port) {
        if (!err) port.close();
        return;
      }
      if (err) {
        this.lost(err);
        return;
      }
      this.opened++;
      this.backoff.reset();
      if (this.down) this.log.info({ path }, 'serial port is back; reading again');
      else this.log.info({ path, baudRate }, 'serial port open');
      this.down = false;
      const source = `serial ${path}`;
      const sink = lineSink(
        (f) =>
          f.line !== undefined
            ? this.pipeline.ingestSerialLine(f.line, source, maxLineBytes)
            : this.pipeline.framingError(f.error, source),
        () => this.stopped || this.port !== port,
      );
      pipeline(port, new LineFramer({ maxBufferSize: maxLineBytes, startByte: START_BYTE }), sink, (streamErr) => {
        if (this.stopped || this.port !== port) return;
        this.lost(streamErr ?? new Error('port closed'));
      });
    });
  }

  /** The port is gone or would not open: log once per outage, then retry with backoff. */
  private lost(err: Error): void {
    if (!this.down) {
      this.down = true;
      this.onLost();
      this.log.warn({ path: this.config.path, err: err.message }, 'serial port unavailable; reopening with backoff');
    } else {
      this.log.debug({ path: this.config.path, err: err.message }, 'serial port still unavailable');
    }
    const port = this.port;
    this.port = undefined;
    if (port && !port.destroyed) port.destroy();
    this.timer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, this.backoff.next());
  }
}
