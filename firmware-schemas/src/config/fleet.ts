import { z } from 'zod';
import { PositiveMs } from './common.js';

/**
 * The device simulator's fleet file (YAML or JSON): which devices exist, what they measure and how
 * often, how their firmware talks, how they misbehave, and which anomalies are injected. Every key
 * has a default, so `{}` is a valid fleet; the simulator's flags override keys of the file.
 */

/** Sensor kinds the simulator has a physical model for (units: °C, %RH, hPa, mm/s RMS, A, ppm). */
export const SENSOR_KINDS = ['temperature', 'humidity', 'pressure', 'vibration', 'current', 'co2'] as const;
export type SensorKindName = (typeof SENSOR_KINDS)[number];

/** Anomalies the simulator can inject, each written to the ground truth. */
export const ANOMALY_KINDS = [
  'spike',
  'dip',
  'level-shift',
  'drift',
  'stuck',
  'noise-burst',
  'dropout',
  'out-of-range',
] as const;
export type AnomalyKindName = (typeof ANOMALY_KINDS)[number];

/**
 * Broken payloads a device may send instead of a reading: `bad-json` (a truncated payload or
 * line), `bad-checksum` (a corrupted byte: a wrong checksum on the serial line, invalid JSON over
 * MQTT) and `out-of-range` (a well-formed payload with a physically impossible value, not labelled
 * as an anomaly: it is firmware noise the agent's range filter removes and counts).
 */
export const MALFORMED_KINDS = ['bad-json', 'bad-checksum', 'out-of-range'] as const;
export type MalformedKindName = (typeof MALFORMED_KINDS)[number];

/** `json`: telemetry JSON over MQTT. `serial`: the `$TRB,...*CS` line format over a serial port. */
export const FIRMWARE_FORMATS = ['json', 'serial'] as const;
export type FirmwareFormat = (typeof FIRMWARE_FORMATS)[number];

/** `synced`: NTP-exact. `skewed`: a fixed offset plus a drift. `none`: no `ts` (the receiver stamps arrival time). */
export const DEVICE_CLOCKS = ['synced', 'skewed', 'none'] as const;

const Rate = z.number().min(0).max(1);
const Weight = z.number().min(0);

export const SensorEntryConfig = z.object({
  kind: z.enum(SENSOR_KINDS),
  /** One reading every this many ms (10 Hz = 100). */
  samplePeriodMs: z.number().int().min(10).max(86_400_000).default(15_000),
});

export const DeviceModelConfig = z
  .object({
    /** Device ids are `<prefix>-<number>`, e.g. `th-0042`. */
    prefix: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/,
        'prefix must be 1-32 letters, digits, "_", "." or "-", starting with a letter or digit',
      ),
    /** Relative share of the fleet's devices that are of this model. */
    share: z.number().positive().default(1),
    sensors: z.array(SensorEntryConfig).min(1).max(16),
    format: z.enum(FIRMWARE_FORMATS).default('json'),
    clock: z.enum(DEVICE_CLOCKS).default('synced'),
    /** On/off duty cycle of the machine that vibration and current measure; omitted: always on. */
    machine: z
      .object({ meanOnMs: PositiveMs.default(4 * 3_600_000), meanOffMs: PositiveMs.default(3_600_000) })
      .optional(),
  })
  .refine((m) => new Set(m.sensors.map((s) => s.kind)).size === m.sensors.length, {
    message: 'a sensor kind appears twice in one model',
    path: ['sensors'],
  });
export type DeviceModelConfig = z.output<typeof DeviceModelConfig>;

export const AnomalyConfig = z.object({
  /** Expected anomalies per series (device + metric) per simulated day. */
  ratePerSeriesPerDay: z.number().min(0).max(1_000).default(0.5),
  /** Relative weight of each kind; kinds left out are not injected. */
  mix: z.partialRecord(z.enum(ANOMALY_KINDS), Weight).default(Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 1]))),
  /** No anomaly this long after the start of a run, so detectors have a baseline. */
  warmupMs: z
    .number()
    .int()
    .min(0)
    .default(2 * 3_600_000),
  /** Quiet time kept between two anomalies of one series (and around a device's dropout). */
  gapMs: z.number().int().min(0).default(3_600_000),
});

export const BehaviourConfig = z.object({
  /** Bounds of the offset and drift of devices whose model has `clock: skewed`. */
  clockSkew: z
    .object({
      maxOffsetMs: z.number().int().min(0).max(3_600_000).default(20_000),
      maxDriftPpm: z.number().min(0).max(10_000).default(50),
    })
    .prefault({}),
  /** Share of messages lost on the way (the device's `seq` goes on, so the receiver sees a gap). */
  seqGapRate: Rate.default(0),
  /** Share of messages sent twice (same `seq`). */
  duplicateRate: Rate.default(0),
  /** Share of messages replaced by a malformed payload. */
  malformedRate: Rate.default(0),
  malformedMix: z
    .partialRecord(z.enum(MALFORMED_KINDS), Weight)
    .default({ 'bad-json': 1, 'bad-checksum': 1, 'out-of-range': 1 }),
  /** Connection losses: readings are kept on the device and sent in a burst on reconnect. */
  reconnects: z
    .object({
      ratePerDevicePerDay: z.number().min(0).max(1_000).default(0),
      meanOutageMs: PositiveMs.default(5 * 60_000),
      /** Messages a device keeps while offline; older ones are lost beyond it. */
      maxBufferedMessages: z.number().int().min(0).max(100_000).default(100),
    })
    .prefault({}),
});

/** The realistic mix used when a fleet file lists no models. */
export const DEFAULT_DEVICE_MODELS: z.input<typeof DeviceModelConfig>[] = [
  { prefix: 'th', share: 4, sensors: [{ kind: 'temperature' }, { kind: 'humidity' }] },
  {
    prefix: 'env',
    share: 2,
    sensors: [
      { kind: 'temperature', samplePeriodMs: 60_000 },
      { kind: 'humidity', samplePeriodMs: 60_000 },
      { kind: 'pressure', samplePeriodMs: 60_000 },
      { kind: 'co2', samplePeriodMs: 60_000 },
    ],
  },
  {
    prefix: 'mach',
    share: 3,
    sensors: [
      { kind: 'vibration', samplePeriodMs: 5_000 },
      { kind: 'current', samplePeriodMs: 5_000 },
      { kind: 'temperature', samplePeriodMs: 30_000 },
    ],
    machine: {},
  },
];

export const FleetConfigSchema = z.object({
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  devices: z.number().int().min(1).max(1_000_000).default(50),
  /** Devices are spread over the sites in turn; the simulator can play one site only. */
  sites: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'site must be 1-64 letters, digits, "_", "." or "-"'))
    .min(1)
    .default(['site-1']),
  models: z
    .array(DeviceModelConfig)
    .min(1)
    .default(() => DEFAULT_DEVICE_MODELS.map((m) => DeviceModelConfig.parse(m))),
  anomalies: AnomalyConfig.prefault({}),
  behaviour: BehaviourConfig.prefault({}),
});

export type FleetConfig = z.output<typeof FleetConfigSchema>;
export type FleetConfigInput = z.input<typeof FleetConfigSchema>;
export const SIM_ENV_PREFIX = 'TRIBUTARY_SIM_';
