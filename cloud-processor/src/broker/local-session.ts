import type { Readable } from 'node:stream';
import { topics } from '@tributary/firmware-schemas';
import type { Aedes, AedesPublishPacket } from 'aedes';
import type { BrokerSession, Deliver } from '../ingest/session.js';

/** What of an aedes Client this uses: its own pause and resume of reading (as its CONNECT handler does). */
interface Publisher {
  pause(): void;
  resume(): void;
}

/**
 * What of aedes this reads beyond its typings: its connected clients by id (a delivered packet
 * names its publisher's, `clientId`), and its retained messages.
 */
interface AedesInside {
  readonly clients: Record<string, Publisher | undefined>;
  readonly persistence: { createRetainedStreamCombi(filters: string[]): Readable };
}

/** A publish the broker handed over, waiting for its turn; `release` lets the broker finish it. */
interface Waiting {
  readonly topic: string;
  readonly payload: Buffer;
  readonly publisher: Publisher | undefined;
  readonly release: () => void;
}

/**
 * The processor's subscription to the embedded broker inside this process: aedes hands each
 * matching publish to us as the packet it parsed (`Aedes.subscribe`, its mqemitter), so a batch
 * reaches the intake as the bytes the broker read, with no MQTT packet written and parsed again.
 *
 * Backpressure, as mqtt.js reading one packet at a time from a socket: publishes are handed to the
 * ingest one at a time in arrival order, and while one of an agent's publishes waits here or is
 * with the ingest, aedes reads nothing more from that agent's connection (its client is paused;
 * aedes alone reads on as soon as more bytes arrive). So a slow intake holds the agents up (a
 * QoS 1 publish is acknowledged by aedes before it is delivered: an agent gets one PUBACK past
 * what the intake took), and what waits here is at most one read of each connection.
 */
export class LocalSession implements BrokerSession {
  private readonly waiting: Waiting[] = [];
  /** Publishers paused, with how many of their publishes wait here or are with the ingest. */
  private readonly held = new Map<Publisher, number>();
  private deliver: Deliver | undefined;
  /** A publish is with the ingest now. */
  private handing = false;
  private downSince: number | undefined = Date.now();
  private readonly filters: string[];
  private readonly inside: AedesInside;

  constructor(
    private readonly broker: Aedes,
    /** Subscribes to the agents' presence (their retained status messages and last wills) too. */
    private readonly presence: boolean,
  ) {
    this.filters = presence ? [topics.batchesPattern, topics.status('+')] : [topics.batchesPattern];
    this.inside = broker as unknown as AedesInside;
  }

  async open(deliver: Deliver): Promise<void> {
    this.deliver = deliver;
    await Promise.all(
      this.filters.map((f) => new Promise<void>((resolve) => this.broker.subscribe(f, this.take, resolve))),
    );
    this.downSince = undefined;
    if (!this.presence) return;
    // A client's subscription gets the retained messages it matches (the status of agents that
    // connected before): so does this one.
    for await (const packet of this.inside.persistence.createRetainedStreamCombi([topics.status('+')])) {
      const { topic, payload } = packet as AedesPublishPacket;
      this.enqueue({ topic, payload: bufferOf(payload), publisher: undefined, release: () => undefined });
    }
  }

  /** aedes' delivery of one publish (its callback lets the broker finish it). */
  private readonly take = (packet: AedesPublishPacket & { clientId?: string }, release: () => void): void => {
    if (this.deliver === undefined) return release();
    const { topic, payload, clientId } = packet;
    const publisher = clientId === undefined ? undefined : this.inside.clients[clientId];
    if (publisher !== undefined) {
      const n = this.held.get(publisher) ?? 0;
      if (n === 0) publisher.pause();
      this.held.set(publisher, n + 1);
    }
    this.enqueue({ topic, payload: bufferOf(payload), publisher, release });
  };

  private enqueue(w: Waiting): void {
    this.waiting.push(w);
    if (!this.handing) this.handNext();
  }

  private handNext(): void {
    const next = this.waiting.shift();
    const deliver = this.deliver;
    if (next === undefined || deliver === undefined) {
      this.handing = false;
      return;
    }
    this.handing = true;
    deliver(next.topic, next.payload, () => {
      this.finish(next);
      this.handNext();
    });
  }

  /** The broker finishes the publish; its publisher is read again once none of its publishes is here. */
  private finish(w: Waiting): void {
    w.release();
    const n = w.publisher === undefined ? undefined : this.held.get(w.publisher);
    if (n === undefined) return;
    if (n > 1) this.held.set(w.publisher!, n - 1);
    else {
      this.held.delete(w.publisher!);
      w.publisher!.resume();
    }
  }

  publish(topic: string, payload: string, done: (err?: Error) => void): void {
    this.broker.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
      (err) => done(err),
    );
  }

  get connection(): { connected: boolean; downSinceMs: number | undefined } {
    return { connected: this.downSince === undefined, downSinceMs: this.downSince };
  }

  /** Unsubscribes; publishes still waiting are let go unhandled (unacked: their agents send them again). */
  async close(): Promise<void> {
    if (this.deliver === undefined) return;
    this.deliver = undefined;
    this.downSince ??= Date.now();
    for (const w of this.waiting.splice(0)) w.release();
    for (const publisher of this.held.keys()) publisher.resume();
    this.held.clear();
    await Promise.all(
      this.filters.map((f) => new Promise<void>((resolve) => this.broker.unsubscribe(f, this.take, resolve))),
    );
  }
}

function bufferOf(payload: string | Buffer): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
