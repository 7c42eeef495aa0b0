import { Backoff, decodeAck, topics, type Clock, type Counters, type Logger, type UplinkConfig } from '@tributary/firmware-schemas';
import mqtt, { type MqttClient } from 'mqtt';
import type { AgentCounter } from '../core/pipeline.js';
import type { BatchQueue, QueuedBatch } from './queue.js';
import { Sender } from './sender.js';

type MqttUplinkConfig = Extract<UplinkConfig, { type: 'mqtt' }>;

/**
 * Publishes sealed batches to `tributary/v1/agents/{agent}/batches` at QoS 1 and deletes each one
 * only when the cloud's ack for it arrives on `.../acks`. Reconnects with exponential backoff and
 * jitter; after a reconnect every unacked batch is sent again. Presence is a retained status
 * message with a last will, so the cloud sees an agent that vanished.
 */
export class MqttUplink {
  private client: MqttClient | undefined;
  private readonly sender: Sender;
  private readonly backoff: Backoff;
  private connected = false;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private readonly drainWaiters = new Set<() => void>();

  constructor(
    private readonly config: MqttUplinkConfig,
    private readonly agentId: string,
    private readonly queue: BatchQueue,
    private readonly counters: Counters<AgentCounter>,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.sender = new Sender(queue, config.maxInFlight, config.ackTimeoutMs);
    this.backoff = new Backoff(config.backoff.initialMs, config.backoff.maxMs);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.sender.inFlightCount;
  }

  start(): void {
    const status = topics.status(this.agentId);
    const client = mqtt.connect(this.config.url, {
      clientId: `tributary-agent-${this.agentId}`,
      clean: true,
      // Reconnects are ours (below), with backoff and jitter instead of a fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      will: { topic: status, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      this.backoff.reset();
      this.log.info({ url: this.config.url }, 'uplink connected');
      client.subscribe(topics.acks(this.agentId), { qos: 1 }, (err) => {
        if (err) this.log.error({ err: err.message }, 'subscribe to acks failed');
        client.publish(status, JSON.stringify({ online: true, at: this.clock.now() }), { qos: 1, retain: true });
        this.pump();
      });
    });
    client.on('message', (_topic, payload) => this.onAck(payload));
    client.on('close', () => {
      if (this.connected) this.log.warn({ url: this.config.url, queued: this.queue.size }, 'uplink connection lost');
      this.connected = false;
      this.sender.disconnected();
      this.scheduleReconnect();
    });
    client.on('error', (err) => this.log.debug({ err: err.message }, 'uplink error'));
    // Resend batches whose ack is overdue even while the connection looks healthy.
    this.resendTimer = setInterval(() => this.pump(), Math.max(100, Math.floor(this.config.ackTimeoutMs / 4)));
  }

  /** Queues a sealed batch (counting what the queue's bound drops) and sends what is due. */
  enqueue(batch: QueuedBatch): void {
    for (const dropped of this.queue.append(batch)) {
      this.sender.forget(dropped.seq);
      this.counters.inc('batches_dropped');
      this.counters.inc('readings_dropped', dropped.readings);
    }
    this.pump();
  }

  /** Resolves when every queued batch is acked, or after `timeoutMs`; true if all were acked. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.queue.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve(this.queue.size === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      this.drainWaiters.add(done);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.resendTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      if (this.connected) await client.publishAsync(topics.status(this.agentId), JSON.stringify({ online: false, at: this.clock.now() }), { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer !== undefined) return;
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.client?.reconnect();
    }, delay);
  }

  private pump(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    const topic = topics.batches(this.agentId);
    for (const { batch, resend } of this.sender.due(this.clock.now())) {
      this.counters.inc('batches_sent');
      if (resend) this.counters.inc('batches_resent');
      client.publish(topic, batch.payload, { qos: 1 }, (err) => {
        if (err) this.log.debug({ seq: batch.seq, err: err.message }, 'batch publish failed; it will be sent again');
      });
    }
  }

  private onAck(payload: Buffer): void {
    const r = decodeAck(payload);
    if (!r.ok) {
      this.log.warn({ reason: r.error.message }, 'ignored an invalid ack');
      return;
    }
    const ack = r.value;
    if (ack.agent !== this.agentId) return;
    if (!this.sender.acked(ack.seq)) return; // an ack for a batch already acked (a resend's answer)
    if (ack.status === 'ok') this.counters.inc('batches_acked');
    else if (ack.status === 'duplicate') this.counters.inc('batches_duplicate');
    else {
      this.counters.inc('batches_rejected');
      this.log.error({ seq: ack.seq, reason: ack.reason }, 'cloud rejected a batch; it is dropped');
    }
    this.pump();
    if (this.queue.size === 0) for (const done of [...this.drainWaiters]) done();
  }
}
