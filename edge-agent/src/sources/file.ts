import type { SourceConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { IngestPipeline } from '../core/pipeline.js';
import { LineFramer } from './line-framer.js';
import { lineSink } from './sink.js';
import type { Source } from './source.js';

type FileSourceConfig = Extract<SourceConfig, { type: 'file' }>;

/**
 * Telemetry lines from a file, or standard input for `-`: JSON telemetry or the serial line
 * format, one per line, for replay and tests. Reads at the pace the pipeline takes them (stream
 * backpressure), then stops; the agent keeps running. Over-long lines are counted and skipped.
 */
export class FileSource implements Source {
  readonly name: string;
  private input: Readable | undefined;
  private stopped = false;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: FileSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
    private readonly stdin: Readable = process.stdin,
  ) {
    this.name = config.name;
  }

  async start(): Promise<void> {
    const { path, format, maxLineBytes } = this.config;
    const input = path === '-' ? this.stdin : createReadStream(path);
    this.input = input;
    let line = 0;
    const sink = lineSink(
      (f) => {
        line++;
        const where = `${path === '-' ? 'stdin' : path}:${line}`;
        if (f.line === undefined) this.pipeline.framingError(f.error, where);
        else if (format === 'json') this.pipeline.ingestJson(f.line, maxLineBytes, where);
        else this.pipeline.ingestSerialLine(f.line, where, maxLineBytes);
      },
      () => this.stopped,
    );
    this.finished = pipeline(input, new LineFramer({ maxBufferSize: maxLineBytes }), sink).then(
      () => this.log.info({ path, lines: line }, 'file source finished'),
      (err: Error) => {
        if (!this.stopped) this.log.error({ path, err: err.message }, 'file source failed');
      },
    );
  }

  /** Resolves when the whole input has been read (or the source stopped or failed). */
  done(): Promise<void> {
    return this.finished;
  }

  /** Nothing is delivered after this. A file is closed; stdin is left open (it may never end), only ignored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.input === this.stdin) return;
    this.input?.destroy();
    await this.finished;
  }
}
