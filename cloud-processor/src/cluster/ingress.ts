import type { Ack } from '@tributary/firmware-schemas';
import type { JetStreamClient, NatsConnection, Subscription } from 'nats';
import { Pipelined, type BatchHandler } from '../ingest/intake.js';
import { envelopeIds } from '../processor.js';
import { ackSubject, batchSubject, isSubjectToken } from './subjects.js';

/** Raised when an upload was not stored or not answered in time: HTTP answers 503, the agent sends it again. */
export class RelayError extends Error {
  readonly code = 'relay';
}

interface AgentAcks {
  readonly sub: Subscription;
  readonly waiters: Map<string, (ack: Ack) => void>;
}

/**
 * The HTTP uplink of a cluster member: an uploaded batch is stored in the stream (as an MQTT one
 * is by nats-server) and the request waits for the owner's ack on the agent's ack subject, which
 * is its answer. No Nats-Msg-Id: a resend must reach the owner to be answered (as a duplicate).
 */
export class HttpRelay {
  private readonly agents = new Map<string, AgentAcks>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly timeoutMs: number,
    private readonly onFailure: () => void,
  ) {}

  /** The Intake handler: stored → next batch; the owner's ack → the answer. */
  readonly handle: BatchHandler = (payload, agent) => {
    const ids = envelopeIds(payload);
    // An agent id that is no subject token cannot be partitioned (docs/scale-out.md); no ack, no loop.
    if (agent === undefined || !isSubjectToken(agent) || ids === undefined) return Pipelined.answered(undefined);
    const key = `${ids.epoch ?? 0}:${ids.seq}`;
    const acks = this.acksOf(agent);
    let timer: NodeJS.Timeout | undefined;
    let fail!: (err: Error) => void;
    const ack = new Promise<Ack>((resolve, reject) => {
      fail = reject;
      acks.waiters.set(key, resolve);
      timer = setTimeout(
        () => reject(new RelayError(`no ack for ${agent} seq ${ids.seq} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    }).finally(() => {
      clearTimeout(timer);
      acks.waiters.delete(key);
      if (acks.waiters.size === 0) {
        acks.sub.unsubscribe();
        this.agents.delete(agent);
      }
    });
    ack.catch(() => this.onFailure());
    const stored = this.js.publish(batchSubject(agent), payload).then(
      () => undefined,
      (err: unknown) => fail(new RelayError(`batch not stored: ${(err as Error).message}`, { cause: err })),
    );
    return new Pipelined(stored, ack);
  };

  private acksOf(agent: string): AgentAcks {
    let acks = this.agents.get(agent);
    if (acks === undefined) {
      const waiters = new Map<string, (ack: Ack) => void>();
      const sub = this.nc.subscribe(ackSubject(agent), {
        callback: (err, msg) => {
          if (err !== null) return;
          try {
            const a = JSON.parse(Buffer.from(msg.data).toString('utf8')) as Ack;
            waiters.get(`${a.epoch ?? 0}:${a.seq}`)?.(a);
          } catch {
            // not an ack: ignored
          }
        },
      });
      acks = { sub, waiters };
      this.agents.set(agent, acks);
    }
    return acks;
  }
}
