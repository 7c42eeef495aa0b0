import type { UplinkConfig } from '@tributary/firmware-schemas';
import type { Clock, Counters, LatencyObserver, Logger, ProblemReport } from '@tributary/runtime';
import type { AgentCounter } from '../core/pipeline.js';
import type { BatchQueue } from '../spool/batch-queue.js';
import { Delivery } from './delivery.js';
import { HttpUplinkTransport } from './http.js';
import { MqttUplinkTransport } from './mqtt.js';
import type { UplinkTransport } from './transport.js';

/** What an uplink transport factory gets besides its own config. */
export interface UplinkContext {
  readonly agentId: string;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * Every uplink transport by its config `type` (the schemas are firmware-schemas' `UplinkConfig`):
 * a new kind is a file here implementing UplinkTransport, a schema there, and an entry in this
 * table, which the compiler holds to the schema's types. Delivery (delivery.ts) does the rest —
 * spooling, resends, acks — the same for each. Nothing connects before Delivery.start().
 */
const transports: {
  [T in UplinkConfig['type']]: (config: Extract<UplinkConfig, { type: T }>, ctx: UplinkContext) => UplinkTransport;
} = {
  mqtt: (c, ctx) => new MqttUplinkTransport(c, ctx.agentId, ctx.clock, ctx.log),
  http: (c, ctx) => new HttpUplinkTransport(c, ctx.agentId, ctx.log),
};

export function createUplinkTransport(config: UplinkConfig, ctx: UplinkContext): UplinkTransport {
  return (transports[config.type] as (c: UplinkConfig, x: UplinkContext) => UplinkTransport)(config, ctx);
}

/** What the agent's uplink gets besides its config: the spool it sends from, and where it counts and logs. */
export interface UplinkParts extends UplinkContext {
  readonly queue: BatchQueue;
  readonly counters: Counters<AgentCounter>;
  readonly problems: ProblemReport;
  /** Seconds from a batch's append to the spool to the cloud's ack. */
  readonly ackLatency?: LatencyObserver;
}

/** Delivery from the spool `queue` through the transport `config.type` names. Opens and connects nothing. */
export function createUplink(config: UplinkConfig, p: UplinkParts): Delivery {
  const transport = createUplinkTransport(config, p);
  return new Delivery(p.queue, transport, config, p.counters, p.problems, p.clock, p.log, p.ackLatency);
}
