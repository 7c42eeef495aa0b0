import type { AgentConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import type { AgentCounter, IngestPipeline } from '../core/pipeline.js';
import type { BrokerRefusal } from './mqtt-broker.js';
import { createSource } from './registry.js';
import type { Source } from './source.js';

/** Each refusal of the gateway's own broker (the mqtt-broker source), by the counter it goes to. */
const brokerRefusalCounter: Record<BrokerRefusal, AgentCounter> = {
  packet: 'broker_packets_refused',
  connect: 'broker_connects_refused',
  budget: 'broker_unauthenticated_over_budget',
  timeout: 'broker_connect_timeouts',
  tls: 'broker_tls_refused',
  protocol: 'broker_protocol_refused',
  login: 'broker_logins_refused',
  subscription: 'broker_subscriptions_refused',
  'subscriber-queue': 'broker_subscriber_drops',
};

/** What the agent gives all its sources. */
export interface AgentSide {
  readonly config: AgentConfig;
  readonly pipeline: IngestPipeline;
  readonly log: Logger;
  readonly stateDir: string;
  /** Counts one of `counter`. */
  readonly count: (counter: AgentCounter) => void;
  /** Counts `by` of `counter` and notes `example` for the periodic problem report. */
  readonly report: (counter: AgentCounter, example: string, by?: number) => void;
  /** A source's connection is back: readings held up meanwhile may follow. */
  readonly reconnected: () => void;
  /** With a write-ahead log: holds a source's acknowledgements until what was logged before is durable. */
  readonly ackAfterLog: ((release: () => void) => void) | undefined;
}

/** The sources of `config.sources`, each with its own logger, client id and config key (see SourceContext). Nothing starts here. */
export function createSources(agent: AgentSide): Source[] {
  const { config, report } = agent;
  return config.sources.map((s, i) =>
    createSource(s, {
      pipeline: agent.pipeline,
      log: agent.log.child({ unit: 'source', source: s.name ?? s.type }),
      instanceId: `tributary-agent-${config.agentId}-src${i}`,
      at: `sources[${i}]`,
      serialPortLost: () => agent.count('serial_port_lost'),
      brokerRefused: (what, example) => report(brokerRefusalCounter[what], example),
      stateDir: agent.stateDir,
      report,
      reconnected: agent.reconnected,
      index: i,
      ackAfterLog: agent.ackAfterLog,
    }),
  );
}
