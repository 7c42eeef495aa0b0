import type { Lines } from '@tributary/storage';
import type { InfluxConfig } from '@tributary/firmware-schemas';
import { Backoff, type Logger } from '@tributary/runtime';
import type { DeadLetterFile } from './dead-letter.js';
import {
  AuthError,
  NotFoundError,
  PartialWriteError,
  PermanentError,
  RetryableError,
  TooLargeError,
  WriteAbortedError,
  type InfluxWriteError,
} from './errors.js';
import { Job, LineQueue, type WriteReport, WriteRequest } from './requests.js';
import { gzipPays, type WriteTarget } from './target.js';
import { bodyBytes } from './http-client.js';

export { WriteAbortedError } from './errors.js';
export type { WriteReport } from './requests.js';

/** The writer's counters (a subset of the processor's). */
export type WriterCounter =
  | 'write_requests'
  | 'write_bytes'
  | 'write_retries'
  | 'write_splits'
  | 'write_refusals'
  | 'points_dead_lettered'
  | 'points_dead_letter_dropped';

/** What the writer is doing about InfluxDB: `blocked` needs a person (credentials, missing database). */
export interface WriterStatus {
  readonly state: 'ok' | 'retrying' | 'blocked';
  readonly reason?: string;
  readonly status?: number | undefined;
  readonly sinceMs?: number;
}

export interface WriterOptions {
  readonly target: WriteTarget;
  readonly config: InfluxConfig;
  readonly deadLetter: DeadLetterFile;
  readonly log: Logger;
  readonly count: (name: WriterCounter, by?: number) => void;
  /** A point refused by InfluxDB, for the once-per-interval problem report. */
  readonly onRefused?: (reason: string) => void;
}

/**
 * Writes line protocol to InfluxDB at its speed. Lines of several batches are coalesced into
 * requests of up to `batch.maxLines`; a request goes out when full, when a part-filled one has
 * waited `batch.flushIntervalMs`, or at once when nothing is in flight. At most
 * `maxInFlightRequests` requests are in flight. `write` resolves once every line of the group is
 * durable in InfluxDB or, if InfluxDB refused it, in the dead-letter file. Answers:
 * - 429, 5xx, timeouts, connection failures: the request is sent again after
 *   max(Retry-After, backoff with full jitter); the backoff is shared, so an outage is one backoff.
 * - 400/422 (a field type conflict, points beyond retention, …): the request is split in halves
 *   until the refused points stand alone (rewriting accepted points is harmless: same identity,
 *   same values); those go to the dead-letter file with InfluxDB's reason.
 * - 413: split in halves, and later requests are kept to half the size; a single line → dead letter.
 * - 401/403, and 404 when the database cannot be created: blocked — logged as an error, visible
 *   in `status()`, nothing acked; the request is tried again every `blockedRetryMs`, so fixing
 *   the credentials (or creating the database) recovers without a restart.
 * - 404 when `createDatabase` is true: the database is created again and the request resent.
 * The backlog is bounded: `room()` waits while `maxBufferedLines` lines, or `maxBufferedBytes`
 * bytes of them, are not yet durable (a batch's bytes count until all its lines are).
 */
export class InfluxWriter {
  private readonly queue = new LineQueue();
  private readonly retries: WriteRequest[] = [];
  private readonly jobs = new Set<Job>();
  private readonly backoff: Backoff;
  private readonly roomWaiters: Array<() => void> = [];
  private readonly sleepers = new Set<() => void>();
  private readonly gzipAllowed: boolean;
  private maxLines: number;
  private outstanding = 0;
  private outstandingBytes = 0;
  private inFlight = 0;
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private pumpQueued = false;
  private aborted = false;
  private current: WriterStatus = { state: 'ok' };

  constructor(private readonly o: WriterOptions) {
    const c = o.config;
    this.backoff = new Backoff(c.retry.initialMs, c.retry.maxMs);
    this.maxLines = c.batch.maxLines;
    this.gzipAllowed = gzipPays(c);
  }

  /** Lines accepted and not yet durable (buffered, in flight or waiting to be retried). */
  get bufferedLines(): number {
    return this.outstanding;
  }

  /** Bytes of line protocol accepted and not yet durable (a batch's, until all its lines are). */
  get bufferedBytes(): number {
    return this.outstandingBytes;
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  status(): WriterStatus {
    return this.current;
  }

  /**
   * Creates the database and retention policy when allowed; retries until InfluxDB answers or
   * `abort()`. When they are missing and may not be created, or the credentials may not check
   * (401/403), it goes on: writes then block loudly (`status()`, /health) until that is fixed.
   */
  async ensureDatabase(): Promise<void> {
    const backoff = new Backoff(this.o.config.retry.initialMs, this.o.config.retry.maxMs);
    for (;;) {
      if (this.aborted) throw new WriteAbortedError('InfluxDB setup abandoned: stopping');
      try {
        await this.o.target.ensure();
        return;
      } catch (err) {
        if (err instanceof AuthError || err instanceof NotFoundError) {
          this.o.log.error(
            { err: err.message, target: this.o.target.description },
            'cannot check or create the InfluxDB database; writes will wait until it is there and writable',
          );
          return;
        }
        const delay = backoff.next();
        this.o.log.warn(
          { err: (err as Error).message, target: this.o.target.description, retryInMs: delay },
          'InfluxDB setup failed; retrying',
        );
        await this.sleep(delay);
      }
    }
  }

  /** Queues lines (one batch's points); resolves when all are durable or dead-lettered, rejects with WriteAbortedError on abort. */
  write(lines: Lines): Promise<WriteReport> {
    if (this.aborted) return Promise.reject(new WriteAbortedError('InfluxDB writer stopped'));
    if (lines.length === 0) return Promise.resolve({ deadLettered: 0, dropped: 0 });
    // No closure here may capture `lines`: the job's callbacks live until it is written, and
    // through their context they would keep every line as a string beside its bytes (112 MB in
    // a heap snapshot of bench:cloud at 100,000 series).
    let settle!: (report: WriteReport) => void;
    let fail!: (err: Error) => void;
    const done = new Promise<WriteReport>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    const job: Job = new Job(
      lines,
      (report) => {
        this.jobs.delete(job);
        this.outstandingBytes -= job.bytes.length;
        settle(report);
      },
      fail,
    );
    this.jobs.add(job);
    this.outstanding += job.count;
    this.outstandingBytes += job.bytes.length;
    this.queue.push(job, Date.now());
    this.schedulePump();
    return done;
  }

  /** Resolves when the backlog has room for more lines (at once when it has). */
  room(): Promise<void> {
    if (this.hasRoom() || this.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  private hasRoom(): boolean {
    return this.outstanding < this.o.config.maxBufferedLines && this.outstandingBytes < this.o.config.maxBufferedBytes;
  }

  /** Stops: pending writes reject with WriteAbortedError (their batches stay unacked); nothing is sent after. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    clearTimeout(this.timer);
    this.queue.clear();
    this.retries.length = 0;
    const err = new WriteAbortedError('InfluxDB write abandoned: stopping');
    for (const job of this.jobs) job.abort(err);
    this.jobs.clear();
    for (const wake of this.roomWaiters.splice(0)) wake();
    for (const wake of [...this.sleepers]) wake();
    this.o.target.close();
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Starts requests while slots are free: retries first, then new lines when a request is due. */
  private pump(): void {
    if (this.aborted) return;
    const now = Date.now();
    while (this.inFlight < this.o.config.maxInFlightRequests) {
      if (now < this.notBefore) return this.wakeAt(this.notBefore);
      const req = this.retries.shift() ?? this.nextRequest(now);
      if (!req) break;
      void this.send(req);
    }
    const oldest = this.queue.oldestAt;
    if (oldest !== undefined && this.inFlight < this.o.config.maxInFlightRequests)
      this.wakeAt(oldest + this.o.config.batch.flushIntervalMs);
  }

  private nextRequest(now: number): WriteRequest | undefined {
    const oldest = this.queue.oldestAt;
    if (oldest === undefined) return undefined;
    const due =
      this.queue.lines >= this.maxLines || this.inFlight === 0 || now - oldest >= this.o.config.batch.flushIntervalMs;
    return due ? this.queue.take(this.maxLines) : undefined;
  }

  private wakeAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private async send(req: WriteRequest): Promise<void> {
    this.inFlight++;
    try {
      if (req.body === undefined)
        await req.prepare(
          !this.gzipAllowed ? Infinity : this.o.config.gzip === 'always' ? 0 : this.o.config.gzipMinBytes,
        );
      this.o.count('write_requests');
      this.o.count('write_bytes', bodyBytes(req.body!));
      await this.o.target.write(req.body!, req.gzipped);
      if (this.aborted) return;
      this.settle(req, false);
      this.succeeded();
    } catch (err) {
      if (!this.aborted) await this.failed(req, err);
    } finally {
      this.inFlight--;
      this.schedulePump();
    }
  }

  private async failed(req: WriteRequest, err: unknown): Promise<void> {
    if (err instanceof TooLargeError || err instanceof PermanentError) {
      const allRefused = err instanceof PartialWriteError && err.dropped !== undefined && err.dropped >= req.lines;
      if (err instanceof TooLargeError && req.lines > 1)
        this.maxLines = Math.max(1, Math.min(this.maxLines, Math.ceil(req.lines / 2)));
      if (req.lines > 1 && !allRefused) {
        this.o.count('write_splits');
        this.retries.unshift(...req.halves());
        return;
      }
      return this.deadLetter(req, err);
    }
    if (err instanceof NotFoundError && this.o.target.canCreate) return this.recreate(req, err);
    if (err instanceof AuthError || err instanceof NotFoundError) return this.block(req, err);
    this.retry(
      req,
      err instanceof RetryableError
        ? err
        : new RetryableError(`unexpected: ${(err as Error).message}`, undefined, undefined, { cause: err }),
    );
  }

  /** Sends the request again after max(Retry-After, backoff); one backoff step per outage, not per request. */
  private retry(req: WriteRequest, err: RetryableError): void {
    this.o.count('write_retries');
    this.retries.unshift(req);
    const now = Date.now();
    if (now < this.notBefore) return;
    const delay = Math.max(err.retryAfterMs ?? 0, this.backoff.next());
    this.notBefore = now + delay;
    if (this.current.state !== 'retrying')
      this.current = { state: 'retrying', reason: err.message, status: err.status, sinceMs: now };
    const n = this.backoff.attempts;
    if (n === 1 || n % 10 === 0)
      this.o.log.warn(
        { err: err.message, status: err.status, attempts: n, retryInMs: delay },
        'InfluxDB write failed; retrying',
      );
  }

  /** 401/403, or a database that may not be created: loud, nothing acked, tried again every blockedRetryMs. */
  private block(req: WriteRequest, err: InfluxWriteError): void {
    this.o.count('write_refusals');
    this.retries.unshift(req);
    const now = Date.now();
    if (now < this.notBefore) return;
    const delay = this.o.config.blockedRetryMs;
    this.notBefore = now + delay;
    if (this.current.state !== 'blocked')
      this.current = { state: 'blocked', reason: err.message, status: err.status, sinceMs: now };
    const what =
      err instanceof AuthError ? 'InfluxDB refused the credentials' : 'the InfluxDB database or bucket does not exist';
    this.o.log.error(
      {
        err: err.message,
        status: err.status,
        target: this.o.target.description,
        retryInMs: delay,
        linesWaiting: this.outstanding,
      },
      `${what}: nothing is written or acked until this is fixed`,
    );
  }

  private async recreate(req: WriteRequest, err: NotFoundError): Promise<void> {
    this.o.log.warn({ err: err.message, target: this.o.target.description }, 'InfluxDB database missing; creating it');
    try {
      await this.o.target.ensure();
      this.retries.unshift(req);
    } catch (e) {
      if (e instanceof AuthError) return this.block(req, err); // may not create it: a person has to
      this.retry(
        req,
        e instanceof RetryableError
          ? e
          : new RetryableError(`creating the database failed: ${(e as Error).message}`, (e as InfluxWriteError).status),
      );
    }
  }

  private async deadLetter(req: WriteRequest, err: InfluxWriteError): Promise<void> {
    let kept: number;
    let dropped: number;
    try {
      ({ kept, dropped } = await this.o.deadLetter.append(req.allLines(), err.message, err.status));
    } catch (e) {
      this.o.log.error(
        { err: (e as Error).message, file: this.o.deadLetter.path },
        'cannot write the dead-letter file; the refused points stay unacked',
      );
      return this.retry(req, new RetryableError(`dead-letter file: ${(e as Error).message}`));
    }
    if (this.aborted) return;
    this.o.count('points_dead_lettered', kept);
    if (dropped > 0) this.o.count('points_dead_letter_dropped', dropped);
    this.o.onRefused?.(`${err.message} — ${req.lines} point(s), e.g. ${req.allLines()[0]!.slice(0, 200)}`);
    this.settle(req, true, dropped);
  }

  private settle(req: WriteRequest, deadLettered: boolean, dropped = 0): void {
    req.settle(deadLettered, dropped);
    this.outstanding -= req.lines;
    if (this.hasRoom()) for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private succeeded(): void {
    if (this.current.state === 'ok') return;
    const was = this.current;
    this.backoff.reset();
    this.notBefore = 0;
    this.current = { state: 'ok' };
    this.o.log.info(
      { was: was.state, reason: was.reason, forMs: Date.now() - (was.sinceMs ?? Date.now()) },
      'InfluxDB writes recovered',
    );
  }

  /** Waits `ms`, or less when `abort()` comes first. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}
