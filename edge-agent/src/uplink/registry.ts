import type { UplinkConfig } from '@tributary/firmware-schemas';
import type { Clock, Logger } from '@tributary/runtime';
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
