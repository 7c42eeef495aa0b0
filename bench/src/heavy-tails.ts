/**
 * Alarms a day per series on healthy minute windows (6 readings each: mean, min, max, stddev from
 * them) of Gaussian and Student-t(3) readings, default ensemble, 4 seeds × 5 days after a day's
 * warm-up; prints which rule spoke. `npm run bench:tails`.
 */
import { createDetector, gaussian, prng } from '@tributary/cloud-processor';
import { parseCommandLine } from '@tributary/runtime';

const USAGE = `usage: npm run bench:tails

Alarms a day per series of the default ensemble on healthy windows of 6 readings, Student-t noise
(3 degrees of freedom) beside Gaussian noise, 4 seeds × 5 days after a day's warm-up, and which
rule spoke; ends with one line of JSON (docs/benchmarks.md).

Environment: BENCH_WINDOW_MS (the window length, 60000).

  -h, --help   prints this and exits
`;

parseCommandLine('bench:tails', USAGE, { options: {} });

const DAY = 86_400_000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
if (!Number.isInteger(WINDOW_MS) || WINDOW_MS < 1_000) {
  console.error(
    `bench:tails: BENCH_WINDOW_MS must be a whole number of milliseconds, at least 1000 (got ${process.env.BENCH_WINDOW_MS})`,
  );
  process.exit(2);
}
const READINGS = 6;
const SEEDS = [1, 2, 3, 4];
const DAYS = 5;

/** Student t with `dof` degrees of freedom (a normal over the root of a chi-square per dof), scaled to unit variance. */
function studentT(normal: () => number, dof: number): () => number {
  const scale = Math.sqrt((dof - 2) / dof);
  return () => {
    let chi = 0;
    for (let i = 0; i < dof; i++) chi += normal() ** 2;
    return (normal() / Math.sqrt(chi / dof)) * scale;
  };
}

function measure(noise: 'gaussian' | 't3'): { perDay: number; rules: Map<string, number> } {
  const rules = new Map<string, number>();
  let alarms = 0;
  for (const seed of SEEDS) {
    const normal = gaussian(prng(seed));
    const draw = noise === 'gaussian' ? normal : studentT(normal, 3);
    const d = createDetector('ensemble', {}, undefined, { windowMs: WINDOW_MS });
    for (let ts = WINDOW_MS; ts < (DAYS + 1) * DAY; ts += WINDOW_MS) {
      const xs = Array.from({ length: READINGS }, () => 20 + 0.3 * draw());
      const mean = xs.reduce((a, b) => a + b) / READINGS;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (READINGS - 1));
      const v = d.update({
        ts,
        value: mean,
        min: Math.min(...xs),
        max: Math.max(...xs),
        stddev: sd,
        count: READINGS,
        first: xs[0]!,
        last: xs[READINGS - 1]!,
      });
      if (ts <= DAY || v.score < 0.5) continue;
      alarms++;
      // The member and the rule's first words ("window rules: max … lies … above" -> "window rules: max above").
      const rule = v.reason
        .replace(/-?\d[\d.e+-]*/g, '#')
        .split(/[;,(]/)[0]!
        .trim();
      rules.set(rule, (rules.get(rule) ?? 0) + 1);
    }
  }
  return { perDay: alarms / (SEEDS.length * DAYS), rules };
}

const out: Record<string, number> = {};
for (const noise of ['gaussian', 't3'] as const) {
  const { perDay, rules } = measure(noise);
  out[`${noise}_alarms_per_series_day`] = perDay;
  console.log(
    `${noise}: ${perDay.toFixed(2)} alarms a day per series (${SEEDS.length} seeds × ${DAYS} days, ${WINDOW_MS / 1000} s windows)`,
  );
  for (const [rule, n] of [...rules].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${rule}`);
}
console.log(JSON.stringify({ window_ms: WINDOW_MS, ...out }));
