import { spawnSync } from 'node:child_process';
import { rateOf, round1, us, type Rate } from './figures.js';
import type { ProcessorRunResult } from './processor-run.js';

/** A raw reference run: its rate and influxd's CPU seconds over its timed part. */
export type RawRun = Rate & { readonly influxdCpu: number };

/** Pinned reference and processor runs, pair by pair (each pair run one after the other), and the median pair by ratio. */
export interface Pinned {
  readonly pairs: Array<{
    raw: RawRun;
    run: ProcessorRunResult;
    /** The processor's rate over the reference's. */
    percent: number;
    /** influxd's CPU per window of the reference over the processor's (all its threads): the ratio of the rates a core each would give, when neither waits for the other or for other processes. */
    cpuPercent: number;
  }>;
  readonly median: Pinned['pairs'][number];
  /** The median of the pairs' cpuPercent. */
  readonly medianCpuPercent: number;
}

/** What the pinned pairs are measured with. */
export interface PinnedRig {
  /** Pairs to run (at least 1). */
  readonly repeats: number;
  readonly influxdPid: number;
  /** Cores of the machine (more than 1). */
  readonly cores: number;
  /** The raw reference into `database`, its feeder pinned to `cpus`. */
  raw(database: string, cpus: string): Promise<RawRun>;
  /** A processor run into `database`, pinned to `cpus`, every window it acked checked to be stored. */
  run(database: string, cpus: string): Promise<ProcessorRunResult>;
  /** Prints a line of the report. */
  log(line: string): void;
  /** A processor run in words. */
  describe(run: ProcessorRunResult): string;
}

/**
 * influxd alone on the last core, the reference's feeder or the processor (and its feeder) on
 * the others: what each costs when they do not take each other's cores. Reference and processor
 * alternate, each pinned the same way, `repeats` times: a pair is measured close together in
 * time, so the load other processes put on the machine hits both alike; the median pair's ratio
 * is the figure (one slow reference made it 144 % once). influxd is unpinned again afterwards.
 */
export async function measurePinned(rig: PinnedRig): Promise<Pinned> {
  const { cores, log } = rig;
  const lastCore = String(cores - 1);
  const otherCores = cores > 2 ? `0-${cores - 2}` : '0';
  // A pinning that failed would make the "pinned" figures unpinned ones: it ends the run, saying why.
  const pin = (cpus: string): void => {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(rig.influxdPid)], { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0)
      throw new Error(
        `bench:cloud: taskset could not pin influxd to cores ${cpus} (${r.error?.message ?? `exit ${r.status}`})`,
      );
  };
  const pairs: Pinned['pairs'] = [];
  pin(lastCore);
  try {
    for (let i = 1; i <= rig.repeats; i++) {
      const ref = await rig.raw(`raw_pinned_${i}`, otherCores);
      const run = await rig.run(`pinned_${i}`, otherCores);
      const refUs = (ref.influxdCpu * 1e6) / ref.windows;
      const runUs = (run.cpuSeconds * 1e6) / run.windows;
      pairs.push({ raw: ref, run, percent: (100 * rateOf(run)) / rateOf(ref), cpuPercent: (100 * refUs) / runUs });
      log(
        `  pinned ${i} (influxd on core ${lastCore}, processor and feeder on ${otherCores}): reference ${Math.round(rateOf(ref))} windows/s (influxd ${round1(refUs)} µs CPU per window), processor ${Math.round(rateOf(run))} windows/s (${round1(runUs)} µs CPU per window, ${(run.cpuSeconds / run.seconds).toFixed(2)} cores): ${Math.round(pairs.at(-1)!.percent)} %; by CPU time ${Math.round(pairs.at(-1)!.cpuPercent)} %`,
      );
    }
  } finally {
    pin(`0-${cores - 1}`);
  }
  const middle = (pairs.length - 1) >> 1;
  const median = [...pairs].sort((a, b) => a.percent - b.percent)[middle]!;
  const medianCpuPercent = [...pairs].sort((a, b) => a.cpuPercent - b.cpuPercent)[middle]!.cpuPercent;
  log(`  pinned, the median pair: processor ${rig.describe(median.run)}`);
  log(
    `  processor / reference, pinned: ${median.percent.toFixed(0)} % the median of ${pairs.length} pairs (${pairs.map((p) => p.percent.toFixed(0)).join(', ')} %; target: at least 90 %); by CPU time (influxd's µs per window over the processor's: the rates with a core each to themselves) ${medianCpuPercent.toFixed(0)} %`,
  );
  return { pairs, median, medianCpuPercent };
}

/** The pinned figures of the JSON line. */
export const pinnedFigures = (pinned: Pinned): Record<string, number | number[]> => ({
  pinned_pairs: pinned.pairs.length,
  pinned_reference_raw_windows_per_s: Math.round(rateOf(pinned.median.raw)),
  pinned_processor_windows_per_s: Math.round(rateOf(pinned.median.run)),
  pinned_processor_vs_raw_percent: round1(pinned.median.percent),
  pinned_processor_vs_raw_percent_each: pinned.pairs.map((p) => round1(p.percent)),
  pinned_processor_vs_raw_by_cpu_percent: round1(pinned.medianCpuPercent),
  pinned_processor_vs_raw_by_cpu_percent_each: pinned.pairs.map((p) => round1(p.cpuPercent)),
  pinned_processor_cores_each: pinned.pairs.map((p) => Math.round((p.run.cpuSeconds / p.run.seconds) * 100) / 100),
  pinned_reference_raw_windows_per_s_each: pinned.pairs.map((p) => Math.round(rateOf(p.raw))),
  pinned_processor_windows_per_s_each: pinned.pairs.map((p) => Math.round(rateOf(p.run))),
  pinned_processor_cpu_us_per_window: us(pinned.median.run.cpuSeconds, pinned.median.run.windows),
  pinned_processor_main_thread_cpu_us_per_window: us(pinned.median.run.mainThreadCpuSeconds, pinned.median.run.windows),
  pinned_detection_workers: pinned.median.run.workers,
  pinned_influxd_cpu_us_per_window: us(pinned.median.run.influxdCpuSeconds, pinned.median.run.windows),
  pinned_influxd_cpu_us_per_window_reference: us(pinned.median.raw.influxdCpu, pinned.median.raw.windows),
});
