import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./memory-child.js', import.meta.url));
const MB = 1024 * 1024;

/** The V8 flag the Pi service file sets (edge-agent/service/tributary-agent.service): a smaller young generation. */
export const PI_FLAGS = ['--max-semi-space-size=4'];

function run(args: string[], flags: readonly string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags, child, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`memory-child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

/** Resident memory (after GC) of a fresh process holding 1k, 10k and 100k active series; the reference is the same process before the core existed. */
export async function benchMemory(log: (line: string) => void): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [profile, flags] of [
    ['', []],
    ['_pi_flags', PI_FLAGS],
  ] as const) {
    log(`  node flags: ${flags.length === 0 ? '(defaults)' : flags.join(' ')}`);
    for (const n of [1_000, 10_000, 100_000]) {
      const r = run(['series', String(n)], flags) as {
        active: number;
        rssBefore: number;
        rssAfter: number;
        heapBefore: number;
        heapAfter: number;
      };
      const tag = `${n / 1000}k`;
      const perSeries = Math.round((r.rssAfter - r.rssBefore) / r.active);
      const heapPerSeries = Math.round((r.heapAfter - r.heapBefore) / r.active);
      log(
        `    ${tag} series: ${r.active} active, RSS ${mb(r.rssAfter)} MB (same process before the core: ${mb(r.rssBefore)} MB), ${perSeries} B/series RSS, ${heapPerSeries} B/series heap`,
      );
      out[`rss_mb_at_${tag}_series${profile}`] = mb(r.rssAfter);
      out[`reference_rss_mb_before_core_${tag}${profile}`] = mb(r.rssBefore);
      out[`rss_bytes_per_series_at_${tag}${profile}`] = perSeries;
      out[`heap_bytes_per_series_at_${tag}${profile}`] = heapPerSeries;
    }
  }
  return out;
}

/** Twice the sustainable rate for 20 simulated minutes (with the Pi flags); memory at minute 2 and 20. */
export async function benchOverload(log: (line: string) => void): Promise<Record<string, number>> {
  const sustainable = 10_000;
  const r = run(['overload', String(sustainable)], PI_FLAGS) as {
    offered: number;
    wallSeconds: number;
    received: number;
    shed: number;
    accepted: number;
    active: number;
    windows: number;
    samples: { minute: number; rss: number; heapUsed: number }[];
  };
  const first = r.samples[0]!;
  const last = r.samples[r.samples.length - 1]!;
  for (const s of r.samples) log(`  minute ${s.minute}: RSS ${mb(s.rss)} MB, heap ${mb(s.heapUsed)} MB`);
  log(
    `  offered ${r.received} messages, shed ${r.shed} (${((100 * r.shed) / r.received).toFixed(1)} %), accepted ${r.accepted} readings, ${r.active} active series, ${r.windows} windows, ${r.wallSeconds} s wall`,
  );
  return {
    overload_sustainable_msgs_per_s: sustainable,
    overload_offered_msgs_per_s: r.offered,
    overload_simulated_minutes: last.minute,
    overload_messages_shed: r.shed,
    overload_shed_fraction: Math.round((r.shed / r.received) * 1000) / 1000,
    overload_rss_mb_at_minute_2: mb(first.rss),
    overload_rss_mb_at_minute_20: mb(last.rss),
    overload_rss_growth_mb_2_to_20: mb(last.rss - first.rss),
    overload_heap_mb_at_minute_2: mb(first.heapUsed),
    overload_heap_growth_mb_2_to_20: mb(last.heapUsed - first.heapUsed),
  };
}
