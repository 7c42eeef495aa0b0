import { NATS_TOKEN_PATTERN } from '@tributary/firmware-schemas';

/**
 * Names in NATS: the stream, buckets and subjects of scale-out, in one place. Agents publish
 * batches over MQTT to nats-server's own MQTT listener; `tributary/v1/agents/{agent}/batches` is
 * the NATS subject `tributary.v1.agents.{agent}.batches`, which the server maps to a partition
 * subject `tp.{n}.{agent}` (its deterministic `partition` function, FNV-1a of the agent token), and
 * the stream holds `tp.>`.
 */
export const STREAM = 'TRIBUTARY_BATCHES';
export const LEASES_BUCKET = 'tributary-leases';
export const CHECKPOINTS_BUCKET = 'tributary-checkpoints';
export const SNAPSHOTS_BUCKET = 'tributary-snapshots';

export const BATCH_SUBJECT_PATTERN = 'tributary.v1.agents.*.batches';
export const PARTITION_SUBJECTS = 'tp.>';

export const batchSubject = (agent: string): string => `tributary.v1.agents.${agent}.batches`;
export const ackSubject = (agent: string): string => `tributary.v1.agents.${agent}.acks`;
export const partitionFilter = (n: number): string => `tp.${n}.>`;

/** KV keys: a partition's lease, a member's heartbeat, a partition's position record. */
export const leaseKey = (n: number): string => `p.${n}`;
export const memberKey = (member: string): string => `m.${member}`;
export const recordKey = (n: number): string => `c.${n}`;

/** Whether `name` can stand as one subject token (agent ids with `.`, say, cannot). */
export function isSubjectToken(name: string): boolean {
  return NATS_TOKEN_PATTERN.test(name);
}

/** The agent of a partition subject `tp.{n}.{agent}`, or undefined. */
export function agentOfPartitionSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts.length === 3 && parts[0] === 'tp' ? parts[2] : undefined;
}

/**
 * The NATS subject of an MQTT topic as nats-server's MQTT bridge names it (`/` → `.`), or
 * undefined when a level is not a plain token (an alert for a device id with `.` or spaces).
 */
export function subjectOfTopic(topic: string): string | undefined {
  const levels = topic.split('/');
  return levels.every((l) => /^[^\s.*>]+$/.test(l)) ? levels.join('.') : undefined;
}

/** The server's subject mapping that partitions batches by agent (nats-server.conf `mappings`). */
export function batchMapping(partitions: number): Record<string, string> {
  return { [BATCH_SUBJECT_PATTERN]: `tp.{{partition(${partitions},1)}}.{{wildcard(1)}}` };
}

export interface NatsServerOptions {
  readonly port: number;
  readonly mqttPort: number;
  readonly storeDir: string;
  readonly partitions: number;
  /** Largest message: at least the processors' maxBatchBytes. */
  readonly maxPayloadBytes: number;
  readonly host?: string;
  readonly serverName?: string;
}

/**
 * A nats-server.conf for one server: JetStream with a file store, the MQTT listener for agents,
 * the partition mapping. `npm run cluster`, the tests and the README's example use it.
 */
export function natsServerConfig(o: NatsServerOptions): string {
  const host = o.host ?? '127.0.0.1';
  const mappings = Object.entries(batchMapping(o.partitions))
    .map(([from, to]) => `  "${from}": "${to}"`)
    .join('\n');
  return `server_name: ${o.serverName ?? 'tributary-nats'}
listen: "${host}:${o.port}"
max_payload: ${o.maxPayloadBytes}
jetstream {
  store_dir: "${o.storeDir}"
}
mqtt {
  listen: "${host}:${o.mqttPort}"
}
mappings = {
${mappings}
}
`;
}
