import type { Ack } from '@tributary/firmware-schemas';

/**
 * A batch handed on before its ack: `next` settles when the intake may start the following batch
 * (the ordered part is done and the write backlog has room); `ack` when this batch is durable.
 */
export class Pipelined {
  constructor(
    readonly next: Promise<void>,
    readonly ack: Promise<Ack | undefined>,
  ) {}

  /** A batch that was answered at once (invalid, duplicate): nothing to wait for. */
  static answered(ack: Ack | undefined): Pipelined {
    return new Pipelined(Promise.resolve(), Promise.resolve(ack));
  }
}

/**
 * A batch naming another agent than the one it came as (its topic's, or its HTTP token's): not
 * processed. `ack` is the rejected ack for the agent it came as, when its seq could be read.
 */
export class ForeignAgentError extends Error {
  readonly code = 'FOREIGN_AGENT';

  constructor(
    readonly batchAgent: string,
    readonly cameAs: string,
    readonly ack: Ack | undefined,
  ) {
    super(`batch says agent ${batchAgent} but came as ${cameAs}`);
  }
}

/**
 * Takes one batch: either the whole processing (a promise of the ack; the next batch starts when
 * it settles) or a `Pipelined`, which lets the next batch start before this one's ack.
 */
export type BatchHandler = (
  payload: Uint8Array,
  topicAgent: string | undefined,
) => Promise<Ack | undefined> | Pipelined;

interface Pending {
  readonly payload: Uint8Array;
  readonly topicAgent: string | undefined;
  readonly resolve: (ack: Ack | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The bounded backlog between the transports and the batch processor. Batches are handed to the
 * processor one at a time in arrival order (so detection sees them in order); with a pipelining
 * handler the next one starts while earlier ones are still being written, until the writer's own
 * bounded backlog is full. When `maxBatches` or `maxBytes` is reached here, `admit` waits for room
 * (MQTT: the client stops reading from the socket, so the broker holds the rest) or `tryAdmit`
 * refuses (HTTP: 503 and Retry-After). Memory stays flat however slow InfluxDB is.
 */
export class Intake {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private busy = false;
  private stopped = false;
  private unacked = 0;
  private readonly roomWaiters: Array<() => void> = [];

  constructor(
    private readonly maxBatches: number,
    private readonly maxBytes: number,
    private readonly process: BatchHandler,
  ) {}

  /** Batches waiting plus the one being handed on. */
  get backlog(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  get backlogBytes(): number {
    return this.queuedBytes;
  }

  /** Batches handed on whose ack is not settled yet (being written). */
  get inFlight(): number {
    return this.unacked;
  }

  /** True when a batch of `bytes` fits now. */
  hasRoom(bytes: number): boolean {
    return (
      this.queue.length < this.maxBatches && (this.queue.length === 0 || this.queuedBytes + bytes <= this.maxBytes)
    );
  }

  /**
   * Waits until the batch fits in the backlog, at most `maxWaitMs`, and queues it. `admitted`
   * resolves true when it is queued, false when the wait ran out (then `ack` resolves undefined:
   * the batch is left unacked); `ack` when it has been processed (or rejects if the processor
   * stopped first).
   */
  admit(
    payload: Uint8Array,
    topicAgent: string | undefined,
    maxWaitMs = Infinity,
  ): { admitted: Promise<boolean>; ack: Promise<Ack | undefined> } {
    let queueIt!: () => void;
    let leave!: () => void;
    const ack = new Promise<Ack | undefined>((resolve, reject) => {
      queueIt = () => this.enqueue({ payload, topicAgent, resolve, reject });
      leave = () => resolve(undefined);
    });
    const admitted = (async () => {
      const deadline = Date.now() + maxWaitMs;
      while (!this.hasRoom(payload.byteLength) && !this.stopped) {
        const left = deadline - Date.now();
        if (left <= 0) {
          leave();
          return false;
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((r) => {
          this.roomWaiters.push(r);
          if (Number.isFinite(left)) timer = setTimeout(r, left);
        });
        clearTimeout(timer);
      }
      queueIt();
      return true;
    })();
    return { admitted, ack };
  }

  /** Queues the batch if it fits now; undefined when the backlog is full. */
  tryAdmit(payload: Uint8Array, topicAgent: string | undefined): Promise<Ack | undefined> | undefined {
    if (!this.hasRoom(payload.byteLength) || this.stopped) return undefined;
    return new Promise<Ack | undefined>((resolve, reject) => this.enqueue({ payload, topicAgent, resolve, reject }));
  }

  /**
   * Resolves once every batch handed on has settled (written and acked, or failed), or after
   * `timeoutMs`; true when all settled. For a stop that lets in-flight writes finish.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ((this.unacked > 0 || this.busy) && Date.now() < deadline) await new Promise<void>((r) => setTimeout(r, 20));
    return this.unacked === 0 && !this.busy;
  }

  /** Refuses everything still queued (their batches stay unacked; the agents send them again). */
  stop(reason: Error): void {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.reject(reason);
    this.queuedBytes = 0;
    for (const w of this.roomWaiters.splice(0)) w();
  }

  private enqueue(p: Pending): void {
    if (this.stopped) {
      p.reject(new Error('intake stopped'));
      return;
    }
    this.queue.push(p);
    this.queuedBytes += p.payload.byteLength;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0 && !this.stopped) {
      const p = this.queue.shift()!;
      this.queuedBytes -= p.payload.byteLength;
      for (const w of this.roomWaiters.splice(0)) w();
      try {
        const handled = this.process(p.payload, p.topicAgent);
        if (handled instanceof Pipelined) {
          this.unacked++;
          handled.ack.then(p.resolve, p.reject).finally(() => this.unacked--);
          await handled.next;
        } else {
          p.resolve(await handled);
        }
      } catch (err) {
        p.reject(err);
      }
    }
    this.busy = false;
  }
}
