import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { Ack, AlertEvent, ClusterConfig } from '@tributary/firmware-schemas';
import { Counters, ProcessMetrics, redactUrl } from '@tributary/runtime';
import { connect, Events, type NatsConnection } from 'nats';
import { MqttAlertSink } from '../alerts/sinks/mqtt.js';
import type { CloudOptions } from '../cloud.js';
import { readHttpTls } from '../cloud-http.js';
import { startCloudHttp } from '../ingest/http.js';
import { Intake } from '../ingest/intake.js';
import { WriteAbortedError } from '../influx/writer.js';
import { Outputs } from '../outputs.js';
import { createPartition, detectionPool } from '../partition.js';
import type { DetectionPool } from '../detect/shards/pool.js';
import { clusterCounterHelp, type ClusterCounter } from './counters.js';
import { HttpRelay } from './ingress.js';
import { LeaseTable } from './leases.js';
import { ClusterNode } from './node.js';
import { CheckpointStore } from './store.js';
import { ensureStores } from './streams.js';
import { ackSubject, subjectOfTopic } from './subjects.js';
import { PartitionWorker } from './worker.js';

/**
 * A cloud processor as one member of a cluster on NATS JetStream (docs/scale-out.md): agents'
 * batches arrive in the partitioned stream (MQTT through nats-server's listener, or HTTP through
 * any member's relay); this member owns the partitions its leases give it, each with its own
 * state (partition.ts) restored from its snapshot, and writes to InfluxDB as the single processor
 * does. Lifecycle: construct → start → stop (hands its partitions over).
 */
export class ClusterProcessor {
  readonly clusterCounters = new Counters<ClusterCounter>(clusterCounterHelp);
  readonly member: string;
  private readonly outputs: Outputs;
  private readonly cluster: ClusterConfig;
  /** Detection worker threads shared by every owned partition (each spreads its series over all of them). */
  private readonly pool: DetectionPool | undefined;
  private nc: NatsConnection | undefined;
  private node: ClusterNode | undefined;
  private intake: Intake | undefined;
  private http: { server: Server; port: number } | undefined;
  /** False from a disconnect until the reconnect (the client retries on its own). */
  private natsUp = false;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    if (config.cluster === undefined) throw new Error('ClusterProcessor needs a cluster config');
    this.cluster = config.cluster;
    this.member =
      config.cluster.member ??
      `${hostname()
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 40)}-${process.pid}`;
    this.outputs = new Outputs(config, log, () => ({
      alerts: this.clusterCounters.get('alerts_unpublishable'),
      shed: 0,
    }));
    // A member may come to own any number of partitions: its workers' heaps are not sized by maxSeries.
    this.pool = detectionPool(config, this.outputs, log, Number.POSITIVE_INFINITY);
    this.counters.gauge('detector_series', () => this.owned().reduce((n, [, w]) => n + w.series, 0));
  }

  get counters(): Outputs['counters'] {
    return this.outputs.counters;
  }

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  onAlert(listener: (alert: AlertEvent) => void): () => void {
    return this.outputs.onAlert(listener);
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const c = this.cluster;
    // First, so a TLS file that cannot be used fails the start before anything connects.
    const httpTls = readHttpTls(config);
    const login = {
      ...(c.user === undefined ? {} : { user: c.user }),
      ...(c.pass === undefined ? {} : { pass: c.pass }),
      ...(c.token === undefined ? {} : { token: c.token }),
    };
    const nc = await connect({
      servers: c.servers,
      name: this.member,
      ...login,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    this.nc = nc;
    this.natsUp = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) this.natsUp = false;
        else if (s.type === Events.Reconnect) this.natsUp = true;
        if (s.type === Events.Disconnect || s.type === Events.Reconnect)
          log.warn(
            { nats: s.data },
            s.type === Events.Disconnect ? 'NATS connection lost; reconnecting' : 'NATS reconnected',
          );
      }
    })();
    if (nc.info !== undefined && nc.info.max_payload < config.maxBatchBytes) {
      log.warn(
        { maxPayload: nc.info.max_payload, maxBatchBytes: config.maxBatchBytes },
        'nats-server max_payload is below maxBatchBytes: larger batches are refused by the server (raise max_payload)',
      );
    }
    const stores = await ensureStores(nc, c);
    await this.outputs.writer.ensureDatabase();
    const store = new CheckpointStore(stores.records, stores.snapshots, c.inlineSnapshotMaxBytes);
    const leases = new LeaseTable(stores.leases, this.member);
    this.outputs.addSink(
      new MqttAlertSink((topic, payload) => {
        const subject = subjectOfTopic(topic);
        if (subject === undefined) this.clusterCounters.inc('alerts_unpublishable');
        else nc.publish(subject, payload);
      }),
    );
    if (config.http) {
      const relay = new HttpRelay(nc, stores.js, config.http.requestTimeoutMs, () =>
        this.clusterCounters.inc('http_relay_failures'),
      );
      this.intake = new Intake(config.ingest.maxBacklogBatches, config.ingest.maxBacklogBytes, relay.handle);
      this.http = await startCloudHttp({
        ...config.http,
        tls: httpTls,
        maxBatchBytes: config.maxBatchBytes,
        intake: this.intake,
        metrics: () => this.metrics(),
        health: () => this.health(),
        routes: { '/api/cluster': () => this.describe() },
        onAckSent: this.outputs.ackSent,
        ...this.outputs.httpRefusals,
      });
    }
    const deliver = (acks: readonly Ack[], alerts: readonly AlertEvent[]): void => {
      for (const a of acks) nc.publish(ackSubject(a.agent), JSON.stringify(a));
      this.counters.inc('acks_sent', acks.length);
      for (const a of alerts) this.outputs.publish(a);
    };
    const workerLog = log.child({ unit: 'partition' });
    this.node = new ClusterNode({
      ...c,
      leases,
      http:
        this.http === undefined
          ? undefined
          : `${config.http?.tls === undefined ? 'http' : 'https'}://${config.http?.host}:${this.http.port}`,
      counters: this.clusterCounters,
      log: log.child({ unit: 'cluster' }),
      startWorker: (partition, onFenced) =>
        PartitionWorker.start({
          partition,
          member: this.member,
          store,
          js: stores.js,
          createState: (onAlert) =>
            createPartition(
              config,
              this.outputs,
              { maxSeries: c.maxSeriesPerPartition, maxSeriesKey: 'cluster.maxSeriesPerPartition' },
              onAlert,
              this.pool,
            ),
          deliver,
          onFenced,
          maxUncommitted: c.maxUncommittedBatches,
          counters: this.clusterCounters,
          log: workerLog,
        }),
    });
    this.node.start();
    this.outputs.startReports();
    log.info(
      {
        member: this.member,
        nats: c.servers.map(redactUrl),
        partitions: c.partitions,
        influx: redactUrl(config.influx.url),
      },
      'cluster member started',
    );
  }

  /**
   * Hands every owned partition over (in-flight batches get up to `drainMs` to be written, then a
   * final snapshot; the next owner replays nothing) and leaves the cluster.
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.outputs.stopReports();
    this.intake?.stop(new WriteAbortedError('stopping'));
    await this.node?.stop(drainMs);
    this.outputs.writer.abort();
    await this.outputs.stop();
    await new Promise<void>((resolve) => (this.http ? this.http.server.close(() => resolve()) : resolve()));
    await this.nc?.drain().catch(() => undefined);
    await this.pool?.close();
    this.outputs.report();
  }

  health(): { ok: boolean; nats: string; owned: number; influx: ReturnType<Outputs['writer']['status']> } {
    const influx = this.outputs.writer.status();
    const nats = this.nc === undefined || this.nc.isClosed() ? 'closed' : this.natsUp ? 'connected' : 'reconnecting';
    return { ok: influx.state !== 'blocked' && nats === 'connected', nats, owned: this.owned().length, influx };
  }

  /** For /api/cluster: this member's partitions with their lag, and the members it sees. */
  describe(): {
    member: string;
    partitions: number;
    members: string[];
    owned: Array<{ partition: number; epoch: number; seq: number; lag: number; series: number }>;
    counters: Record<string, number>;
  } {
    return {
      member: this.member,
      partitions: this.cluster.partitions,
      members: [...(this.node?.members ?? [])].sort(),
      owned: this.owned().map(([partition, w]) => ({
        partition,
        epoch: w.epoch,
        seq: w.seq,
        lag: w.lag,
        series: w.series,
      })),
      counters: this.clusterCounters.snapshot(),
    };
  }

  /** Prometheus text: the processor's counters, the cluster's, and lag per owned partition. */
  metrics(): Promise<string> {
    this.prometheus ??= this.exposeMetrics();
    return this.prometheus.text();
  }

  private prometheus: ProcessMetrics | undefined;

  /** The registry of /metrics, built at the first scrape (every counter and gauge is known by then). */
  private exposeMetrics(): ProcessMetrics {
    this.clusterCounters.gauge('members', () => this.node?.members.length ?? 0);
    this.clusterCounters.gauge('partitions_owned', () => this.owned().length);
    const m = new ProcessMetrics('tributary_cloud').expose(this.counters);
    const cluster = new ProcessMetrics('tributary_cloud_cluster', {}, m.registry).expose(this.clusterCounters);
    cluster.family(
      'gauge',
      'partition_lag_batches',
      'batches in the stream of an owned partition not yet processed',
      'partition',
      () => this.owned().map(([n, w]) => [String(n), w.lag] as const),
    );
    return m;
  }

  private owned(): Array<[number, PartitionWorker]> {
    return this.node?.owned() ?? [];
  }
}
