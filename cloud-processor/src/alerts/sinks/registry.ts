import type { AlertSinkConfig, ProcessorConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { LogSink } from './log.js';
import type { AlertSink } from './sink.js';
import { WebhookSink } from './webhook.js';

/**
 * Every configured alert sink by its config `type` (the schemas are firmware-schemas'
 * `AlertSinkConfig`): a new kind is a file here, a schema there, and an entry in this table, which
 * the compiler holds to the schema's types. The transport's own sink (MQTT topics, or NATS
 * subjects in a cluster) is added by the processor that owns the connection (sinks/mqtt.ts).
 */
const factories: {
  [T in AlertSinkConfig['type']]: (config: Extract<AlertSinkConfig, { type: T }>, log: Logger) => AlertSink;
} = {
  log: (_config, log) => new LogSink(log.child({ unit: 'alerts' })),
  webhook: (config, log) => new WebhookSink(config, log.child({ unit: 'webhook' })),
};

export function createAlertSink(config: AlertSinkConfig, log: Logger): AlertSink {
  return (factories[config.type] as (c: AlertSinkConfig, l: Logger) => AlertSink)(config, log);
}

/** The sinks a processor config asks for: `alerts.sinks`, then each of `alerts.webhooks`. */
export function configuredAlertSinks(alerts: ProcessorConfig['alerts']): AlertSinkConfig[] {
  return [...alerts.sinks, ...alerts.webhooks.map((w) => ({ type: 'webhook' as const, ...w }))];
}
