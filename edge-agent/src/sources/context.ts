import type { AgentConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import type { AgentReport } from '../agent-report.js';
import type { AgentCounter, IngestPipeline } from '../core/pipeline.js';
import type { WriteAheadLog } from '../wal/write-ahead-log.js';
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
  /** Where sources count, and note an example of what they skipped for the periodic problem report. */
  readonly report: AgentReport;
  /** A source's connection is back: readings held up meanwhile may follow. */
  readonly reconnected: () => void;
  /** With a write-ahead log, a source's acknowledgements wait until what was logged before is durable. */
  readonly wal: WriteAheadLog | undefined;
}

/** The sources of `config.sources`, each with its own logger, client id and config key (see SourceContext). Nothing starts here. */
export function createSources(agent: AgentSide): Source[] {
  const { config, wal } = agent;
  const report = (counter: AgentCounter, example: string, by?: number): void => agent.report.note(counter, example, by);
  const ackAfterLog = wal === undefined ? undefined : (release: () => void) => wal.afterCommit(release);
  return config.sources.map((s, i) =>
    createSource(s, {
      pipeline: agent.pipeline,
      log: agent.log.child({ unit: 'source', source: s.name ?? s.type }),
      instanceId: `tributary-agent-${config.agentId}-src${i}`,
      at: `sources[${i}]`,
      serialPortLost: () => agent.report.counters.inc('serial_port_lost'),
      brokerRefused: (what, example) => report(brokerRefusalCounter[what], example),
      stateDir: agent.stateDir,
      report,
      reconnected: agent.reconnected,
      index: i,
      ackAfterLog,
    }),
  );
}
