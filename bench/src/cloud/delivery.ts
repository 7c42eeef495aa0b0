/**
 * delivery.js SERIES AGENTS ROUNDS PASSES — what taking batches from the embedded broker costs the
 * processor's process. Agents in a child process publish bench:cloud's batches (QoS 1, 8 in flight
 * each, over loopback) to the embedded broker; the ingest hands them to an intake that acks each at
 * once (no decoding, detection or writing), two ways in turn, `passes` times each: inside the
 * process (the local session: the default deployment) and, the reference, as an MQTT client over
 * loopback (mqtt.js, as from an external broker). CPU time of this process (broker and ingest) per
 * window, from the first batch taken to the last; prints one JSON line of the medians.
 */
import { fork } from 'node:child_process';
import { UnauthenticatedLimitsConfig, type Ack } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { Intake, MqttIngest, MqttSession, startEmbeddedBroker } from '@tributary/cloud-processor';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';
import mqtt from 'mqtt';

const [role, ...rest] = process.argv.slice(2);
const batchesOf = (series: number, agents: number) =>
  new WindowBatches({ series, agents, windowMs: 60_000, readingsPerWindow: 60, startMs: 1_700_000_000_000, seed: 7 });

if (role === 'feed') {
  // feed URL SERIES AGENTS ROUNDS: every agent's batches, 8 in flight per agent.
  const [url, series, agents, rounds] = [rest[0]!, ...rest.slice(1).map(Number)] as [string, number, number, number];
  const gen = batchesOf(series, agents);
  const byAgent: Buffer[][] = Array.from({ length: agents }, () => []);
  for (let r = 0; r < rounds; r++) gen.nextPayloads().forEach(({ payload }, a) => byAgent[a]!.push(payload));
  await Promise.all(
    byAgent.map(async (payloads, a) => {
      const client = await mqtt.connectAsync(url, { clientId: `tributary-agent-${gen.agentId(a)}` });
      let next = 0;
      const send = async (): Promise<void> => {
        while (next < payloads.length)
          await client.publishAsync(`tributary/v1/agents/${gen.agentId(a)}/batches`, payloads[next++]!, { qos: 1 });
      };
      await Promise.all(Array.from({ length: 8 }, send));
      await client.endAsync();
    }),
  );
} else {
  const [series, agents, rounds, passes] = [role, ...rest].map(Number) as [number, number, number, number];
  const windowsPerBatch = series / agents;
  const cpuUs = (): number => {
    const c = process.cpuUsage();
    return c.user + c.system;
  };
  /** One pass: CPU µs of this process per window while `agents × rounds` batches are taken. */
  const pass = async (kind: 'local' | 'mqtt'): Promise<number> => {
    const broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      maxClients: 1_000,
      maxPacketBytes: 16 << 20,
      unauthenticated: UnauthenticatedLimitsConfig.parse({}),
      refused: () => undefined,
      log: silentLogger,
    });
    const total = agents * rounds;
    let taken = 0;
    let startUs = 0;
    let finished!: () => void;
    const all = new Promise<void>((resolve) => (finished = resolve));
    const intake = new Intake(64, 64 << 20, (_payload, agent) => {
      if (taken++ === 0) startUs = cpuUs();
      if (taken === total) finished();
      return Promise.resolve<Ack>({ v: 1, agent: agent!, seq: taken, status: 'ok' });
    });
    const session =
      kind === 'local'
        ? broker.session(true)
        : new MqttSession(
            // An agent's client id: the embedded broker keeps a persistent session for agents only.
            { url: broker.url, clientId: 'tributary-agent-bench-ingest', startTimeoutMs: 10_000, presence: true },
            silentLogger,
          );
    const ingest = new MqttIngest(session, { maxStallMs: 60_000 }, intake, silentLogger, () => undefined);
    await ingest.start();
    const feeder = fork(new URL(import.meta.url), ['feed', broker.url, String(series), String(agents), String(rounds)]);
    await all;
    const us = (cpuUs() - startUs) / ((total - 1) * windowsPerBatch);
    feeder.kill();
    await ingest.stop();
    await broker.close();
    return us;
  };
  const runs: Record<'local' | 'mqtt', number[]> = { local: [], mqtt: [] };
  for (let p = 0; p < passes; p++) for (const kind of ['local', 'mqtt'] as const) runs[kind].push(await pass(kind));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      windows_per_batch: windowsPerBatch,
      local_session_us_per_window: round2(median(runs.local)),
      mqtt_client_us_per_window: round2(median(runs.mqtt)),
      local_session_passes_us: runs.local.map(round2),
      mqtt_client_passes_us: runs.mqtt.map(round2),
    })}\n`,
  );
  process.exit(0);
}
