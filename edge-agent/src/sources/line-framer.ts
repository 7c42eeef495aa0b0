import { Transform, type TransformCallback } from 'node:stream';

/** One framed line (without CR LF), or why some bytes were skipped. */
export type Framed =
  | { readonly line: string; readonly error?: undefined }
  | { readonly line?: undefined; readonly error: string };

export interface LineFramerOptions {
  /** Bound on one line without its CR LF; a longer line is reported and skipped. Required. */
  readonly maxBufferSize: number;
  /**
   * The byte every line starts with (`$` for the serial format), or undefined for plain lines.
   * With a start byte, bytes between lines are garbage, and a start byte inside a line means the
   * line was truncated: the stream resynchronises at every start byte.
   */
  readonly startByte?: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Bytes → lines, bounded: a Transform whose readable side yields `Framed` objects. Never holds
 * more than `maxBufferSize` + 1 bytes. Blank lines and CR/LF between lines are passed over
 * silently; everything else skipped is reported, one error per run of skipped bytes.
 */
export class LineFramer extends Transform {
  private readonly buf: Buffer;
  private readonly max: number;
  private readonly start: number | undefined;
  private len = 0;
  /** Inside a line (with a start byte: since the start byte; without: since a non-newline byte). */
  private inLine = false;
  /** Skipping the rest of an over-long line. */
  private discarding = false;
  /** Bytes of garbage seen since the last line (start-byte mode). */
  private garbage = 0;

  constructor(options: LineFramerOptions) {
    super({ readableObjectMode: true });
    if (!(options.maxBufferSize >= 1)) throw new RangeError('maxBufferSize is required and must be at least 1');
    this.max = options.maxBufferSize;
    this.start = options.startByte;
    // One more byte for the CR before LF.
    this.buf = Buffer.allocUnsafe(this.max + 1);
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]!);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.inLine) {
      if (this.start === undefined) this.emitLine();
      else this.push({ error: `stream ended inside a line (${this.len} bytes, truncated)` });
    }
    this.reportGarbage();
    done();
  }

  private byte(b: number): void {
    if (this.start !== undefined && b === this.start) {
      if (this.inLine) this.push({ error: `line truncated: a new line started after ${this.len} bytes` });
      this.reportGarbage();
      this.inLine = true;
      this.discarding = false;
      this.buf[0] = b;
      this.len = 1;
      return;
    }
    if (b === LF) {
      if (this.inLine) this.emitLine();
      this.reportGarbage();
      this.inLine = false;
      this.discarding = false;
      return;
    }
    if (this.discarding) return;
    if (!this.inLine) {
      if (this.start === undefined) {
        this.inLine = true;
        this.len = 0;
      } else {
        if (b !== CR) this.garbage++;
        return;
      }
    }
    if (this.len > this.max) {
      this.push({ error: `line longer than ${this.max} bytes, skipped to the next line` });
      this.inLine = false;
      this.discarding = true;
      return;
    }
    this.buf[this.len++] = b;
  }

  private emitLine(): void {
    let end = this.len;
    if (end > 0 && this.buf[end - 1] === CR) end--;
    this.inLine = false;
    this.len = 0;
    if (end > this.max) {
      this.push({ error: `line longer than ${this.max} bytes, skipped` });
      return;
    }
    if (end === 0) return;
    this.push({ line: this.buf.toString('utf8', 0, end) });
  }

  private reportGarbage(): void {
    if (this.garbage === 0) return;
    this.push({ error: `${this.garbage} byte(s) of garbage between lines` });
    this.garbage = 0;
  }
}
