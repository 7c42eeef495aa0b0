import { AlertLifecycle, Detection, detectorPlans, type SeriesInput, type Verdict } from '@tributary/cloud-processor';
import { Fleet, SimClock, Simulator, sensorKinds, type FleetOptions, type Transport } from '@tributary/device-simulator';
import { FilterChains, IngestPipeline, WindowEngine, windowEngineOptions, agentCounterHelp, type AgentCounter } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema, type AlertEvent, type ProcessorConfigInput, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport } from '@tributary/runtime';
import { windowInput } from '@tributary/storage';

export interface OfflineRun {
  readonly fleet: Fleet;
  readonly alerts: AlertEvent[];
  readonly windows: number;
  readonly readings: number;
  readonly seconds: number;
  /** Of those, the time spent in the cloud's detection (windows to alert transitions). */
  readonly detectionSeconds: number;
}

/**
 * A fleet through the agent's real ingest path (decode, validate, range filter, event-time
 * windows) and the cloud's real detection (the same `Detection` the processor runs), in one
 * process and as fast as the CPU allows: no broker, no database. For benchmarks and for checking
 * detection against the simulator's ground truth.
 */
export async function runOffline(fleetOptions: FleetOptions, options: { windowMs: number; processor?: ProcessorConfigInput; onVerdict?: (point: SeriesInput, verdict: Verdict) => void }): Promise<OfflineRun> {
  const fleet = new Fleet(fleetOptions);
  const config = ProcessorConfigSchema.parse(options.processor ?? {});
  const lifecycle = new AlertLifecycle(config.alerts);
  const detection = new Detection(detectorPlans(config.detection), lifecycle, config.detection.maxSeries, undefined, options.onVerdict);
  const agentConfig = AgentConfigSchema.parse({
    agentId: 'offline',
    sources: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1' }],
    uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' },
    filters: Object.fromEntries(Object.values(sensorKinds).map((k) => [k.metric, [{ type: 'range', min: k.range.min, max: k.range.max }]])),
    windows: { lengthMs: options.windowMs, allowedLatenessMs: 30_000 },
  });
  const alerts: AlertEvent[] = [];
  let pending: WindowResult[] = [];
  let windows = 0;
  let detectionNs = 0n;
  const engine = new WindowEngine(
    windowEngineOptions(agentConfig.windows),
    {
      window: (w) => {
        windows++;
        pending.push(w);
      },
      evicted: () => undefined,
      outOfRangeOnly: () => undefined,
    },
  );
  const clock = new ManualClock(fleetOptions.startMs);
  const pipeline = new IngestPipeline({ filters: new FilterChains(agentConfig.filters), windows: engine, clock, maxFutureMs: 60_000, counters: new Counters<AgentCounter>(agentCounterHelp), problems: new ProblemReport() });
  const toCloud = (): void => {
    if (pending.length === 0) return;
    const points: SeriesInput[] = pending.map(windowInput);
    pending = [];
    const t = process.hrtime.bigint();
    alerts.push(...detection.ingest('offline', points, Number.isFinite(engine.complete) ? engine.complete : undefined));
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
  const stats = await new Simulator(fleet, new SimClock(fleetOptions.startMs + fleetOptions.durationMs + 86_400_000, 1), transport).run();
  engine.flush();
  toCloud();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { fleet, alerts, windows, readings: stats.readings, seconds, detectionSeconds: Number(detectionNs) / 1e9 };
}
