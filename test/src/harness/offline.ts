import {
  AlertLifecycle,
  Detection,
  DetectionPool,
  detectorPlans,
  LocalDetection,
  ShardedDetection,
  type DetectionRunner,
  type SeriesInput,
  type Verdict,
} from '@tributary/cloud-processor';
import {
  Fleet,
  SimClock,
  Simulator,
  sensorKinds,
  type FleetOptions,
  type Transport,
} from '@tributary/device-simulator';
import {
  FilterChains,
  IngestPipeline,
  WindowEngine,
  windowEngineOptions,
  agentCounterHelp,
  type AgentCounter,
} from '@tributary/edge-agent';
import {
  AgentConfigSchema,
  ProcessorConfigSchema,
  type AlertEvent,
  type ProcessorConfigInput,
  type WindowResult,
} from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport, silentLogger } from '@tributary/runtime';
import { windowInput } from '@tributary/storage';

export interface OfflineRun {
  readonly fleet: Fleet;
  readonly alerts: AlertEvent[];
  readonly windows: number;
  readonly readings: number;
  readonly seconds: number;
  /** Of those, the time spent in the cloud's detection (windows to alert transitions); with workers, in handing batches to them and waiting for the last answers. */
  readonly detectionSeconds: number;
  /** Worker threads detection ran on (0: this thread). */
  readonly workers: number;
}

/**
 * A fleet through the agent's real ingest path (decode, validate, range filter, event-time
 * windows) and the cloud's real detection (the same `Detection` the processor runs), in one
 * process and as fast as the CPU allows: no broker, no database. For benchmarks and for checking
 * detection against the simulator's ground truth. Detection runs in this thread unless the
 * processor config sets `detection.workers` (then over that many worker threads, as the
 * processor runs it; the alerts are the same).
 */
export async function runOffline(
  fleetOptions: FleetOptions,
  options: {
    windowMs: number;
    processor?: ProcessorConfigInput;
    onVerdict?: (point: SeriesInput, verdict: Verdict) => void;
  },
): Promise<OfflineRun> {
  const fleet = new Fleet(fleetOptions);
  const config = ProcessorConfigSchema.parse(options.processor ?? {});
  const workers = config.detection.workers ?? 0;
  const pool = workers > 0 ? new DetectionPool(workers, silentLogger) : undefined;
  const lifecycle = new AlertLifecycle(config.alerts);
  const { maxSeries } = config.detection;
  // A verdict per point is seen in the thread that judges it: only detection in this thread can show them.
  if (pool && options.onVerdict)
    throw new Error('runOffline: onVerdict needs detection in this thread (detection.workers 0)');
  const detection: DetectionRunner = pool
    ? new ShardedDetection(pool, {
        detection: config.detection,
        alerts: config.alerts,
        maxSeries,
        maxQueuedBatches: config.detection.maxQueuedBatches,
        onEvicted: () => undefined,
        onDropped: () => undefined,
        onMetricsLeftOut: () => undefined,
      })
    : new LocalDetection(
        new Detection(detectorPlans(config.detection), lifecycle, maxSeries, undefined, options.onVerdict),
        lifecycle,
      );
  // Each batch's alerts, in batch order (with workers, answered while the simulator plays on).
  const answers: Array<Promise<AlertEvent[]>> = [];
  const agentConfig = AgentConfigSchema.parse({
    agentId: 'offline',
    sources: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1' }],
    uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' },
    filters: Object.fromEntries(
      Object.values(sensorKinds).map((k) => [k.metric, [{ type: 'range', min: k.range.min, max: k.range.max }]]),
    ),
    windows: { lengthMs: options.windowMs, allowedLatenessMs: 30_000 },
  });
  let pending: WindowResult[] = [];
  let windows = 0;
  let detectionNs = 0n;
  const engine = new WindowEngine(windowEngineOptions(agentConfig.windows), {
    window: (w) => {
      windows++;
      pending.push(w);
    },
    evicted: () => undefined,
    outOfRangeOnly: () => undefined,
  });
  const clock = new ManualClock(fleetOptions.startMs);
  const pipeline = new IngestPipeline({
    filters: new FilterChains(agentConfig.filters),
    windows: engine,
    clock,
    maxFutureMs: 60_000,
    counters: new Counters<AgentCounter>(agentCounterHelp),
    problems: new ProblemReport(),
  });
  const toCloud = (): void => {
    if (pending.length === 0) return;
    const points: SeriesInput[] = pending.map(windowInput);
    pending = [];
    const t = process.hrtime.bigint();
    answers.push(detection.ingest('offline', points, Number.isFinite(engine.complete) ? engine.complete : undefined));
    detectionNs += process.hrtime.bigint() - t;
  };
  let tickedAt = -Infinity;
  const transport: Transport = {
    send: (frame) => {
      clock.set(Math.max(clock.now(), frame.ts));
      if (frame.format === 'serial') pipeline.ingestSerialLine(frame.payload, 'offline');
      else pipeline.ingestJson(frame.payload, 4096, 'offline');
      // The agent's timer, once a simulated second: moves silent devices on and advances `complete`.
      if (clock.now() - tickedAt >= 1_000) {
        tickedAt = clock.now();
        engine.tick(tickedAt);
      }
      toCloud();
    },
    flush: async () => undefined,
    close: async () => undefined,
  };
  const t0 = process.hrtime.bigint();
  // A clock far in the future: every tick is due at once, so the run goes as fast as it can.
  const stats = await new Simulator(
    fleet,
    new SimClock(fleetOptions.startMs + fleetOptions.durationMs + 86_400_000, 1),
    transport,
  ).run();
  engine.flush();
  toCloud();
  const t = process.hrtime.bigint();
  const alerts = (await Promise.all(answers)).flat();
  detectionNs += process.hrtime.bigint() - t;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await detection.close();
  await pool?.close();
  return {
    fleet,
    alerts,
    windows,
    readings: stats.readings,
    seconds,
    detectionSeconds: Number(detectionNs) / 1e9,
    workers,
  };
}
