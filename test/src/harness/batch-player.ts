import type { MqttClient } from 'mqtt';
import type { WindowBatches } from './window-batches.js';

/** The next `n` periods of a fleet's batches, per agent, in order: what each agent would send. */
export function batchQueues(gen: WindowBatches, n: number): Map<string, Buffer[]> {
  const queues = new Map<string, Buffer[]>();
  for (let r = 0; r < n; r++) {
    for (const b of gen.nextPayloads()) {
      let q = queues.get(b.agent);
      if (!q) queues.set(b.agent, (q = []));
      q.push(b.payload);
    }
  }
  return queues;
}

/**
 * Plays edge agents over one MQTT connection (subscribed to every agent's acks): publishes each
 * agent's batches in order at QoS 1, at most `maxInFlight` unacked per agent, as the agent's
 * uplink does; resolves when every batch is acked `ok` (any other answer is an error).
 */
export function publishAll(client: MqttClient, queues: Map<string, Buffer[]>, maxInFlight = 8): Promise<void> {
  const batches = [...queues.values()].reduce((n, q) => n + q.length, 0);
  const unacked = new Map<string, number>();
  let acked = 0;
  return new Promise<void>((resolve, reject) => {
    const publishNext = (agent: string): void => {
      const q = queues.get(agent)!;
      while ((unacked.get(agent) ?? 0) < maxInFlight && q.length > 0) {
        unacked.set(agent, (unacked.get(agent) ?? 0) + 1);
        client.publish(`tributary/v1/agents/${agent}/batches`, q.shift()!, { qos: 1 });
      }
    };
    const onAck = (_topic: string, payload: Buffer): void => {
      const ack = JSON.parse(payload.toString()) as { agent: string; status: string };
      if (ack.status !== 'ok') {
        client.off('message', onAck);
        reject(new Error(`batch not acked ok: ${payload.toString()}`));
        return;
      }
      unacked.set(ack.agent, unacked.get(ack.agent)! - 1);
      if (++acked === batches) {
        client.off('message', onAck);
        resolve();
      } else publishNext(ack.agent);
    };
    client.on('message', onAck);
    for (const agent of queues.keys()) publishNext(agent);
  });
}
