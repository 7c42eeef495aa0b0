import type { SourceConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import type { AgentCounter, IngestPipeline } from '../core/pipeline.js';
import { FileSource } from './file.js';
import { MosquittoSource } from './mosquitto/source.js';
import { MqttBrokerSource, type BrokerRefusal } from './mqtt-broker.js';
import { MqttSource } from './mqtt.js';
import { SerialSource } from './serial.js';
import type { Source } from './source.js';

/** What a source factory gets besides its own config. */
export interface SourceContext {
  readonly pipeline: IngestPipeline;
  readonly log: Logger;
  /** Unique per source instance, e.g. for an MQTT client id. */
  readonly instanceId: string;
  /** The source's config key (`sources[0]`), for errors about the files it names. */
  readonly at: string;
  /** A serial port was lost or would not open. */
  readonly serialPortLost: () => void;
  /** The gateway's own broker turned something away (`example` says who and why). */
  readonly brokerRefused: (what: BrokerRefusal, example: string) => void;
  /** The agent's state directory (a source that keeps state keeps it below). */
  readonly stateDir: string;
  /** Counts `by` of `counter` and notes `example` for the periodic problem report. */
  readonly report: (counter: AgentCounter, example: string, by?: number) => void;
  /** A source's connection is back: readings held up meanwhile may follow. */
  readonly reconnected: () => void;
  /** Its place in the config's sources. */
  readonly index: number;
  /** With a write-ahead log: holds a source's acknowledgements until what was logged before is durable. */
  readonly ackAfterLog?: ((release: () => void) => void) | undefined;
}

/** Every source by its config `type`. */
const factories: {
  [T in SourceConfig['type']]: (config: Extract<SourceConfig, { type: T }>, ctx: SourceContext) => Source;
} = {
  mqtt: (c, ctx) =>
    new MqttSource(
      c,
      ctx.pipeline,
      ctx.log,
      ctx.instanceId,
      {
        reconnected: ctx.reconnected,
        index: ctx.index,
        ...(ctx.ackAfterLog === undefined ? {} : { ackAfterLog: ctx.ackAfterLog }),
      },
      ctx.at,
    ),
  'mqtt-broker': (c, ctx) => new MqttBrokerSource(c, ctx.pipeline, ctx.log, ctx.brokerRefused, ctx.ackAfterLog, ctx.at),
  mosquitto: (c, ctx) =>
    new MosquittoSource(
      c,
      ctx.pipeline,
      ctx.log,
      ctx.stateDir,
      {
        restarted: (example) => ctx.report('mosquitto_restarts', example),
        dropped: (count, example) => ctx.report('mosquitto_messages_dropped', example, count),
      },
      {
        reconnected: ctx.reconnected,
        index: ctx.index,
        ...(ctx.ackAfterLog === undefined ? {} : { ackAfterLog: ctx.ackAfterLog }),
      },
    ),
  serial: (c, ctx) => new SerialSource(c, ctx.pipeline, ctx.log, ctx.serialPortLost),
  file: (c, ctx) => new FileSource(c, ctx.pipeline, ctx.log),
};

export function createSource(config: SourceConfig, ctx: SourceContext): Source {
  return (factories[config.type] as (c: SourceConfig, x: SourceContext) => Source)(config, ctx);
}
