/**
 * node bench/dist/cloud/profile-summary.js FILE.cpuprofile [TOP] — where a thread's CPU went: the
 * profile's self time by function (name, file and line), largest first, with each one's share of
 * the samples; the same summed by file; and by function again, an estimate of time on the CPU,
 * counting only the samples that came at most twice the median sampling interval after the one
 * before (the wall-time tables charge a descheduled thread's wait to wherever it resumed). For bench:cloud's --profile (one .cpuprofile per thread). Prints tables,
 * then one line of JSON (ms).
 */
import { readFileSync } from 'node:fs';
import { summaryArgs } from './summary-args.js';
import { basename } from 'node:path';

interface Profile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const USAGE = `usage: node bench/dist/cloud/profile-summary.js FILE.cpuprofile [TOP]

Prints the tables of where the CPU went in FILE (bench:cloud's --profile
writes them), TOP rows each (25), then one line of JSON.

  -h, --help   prints this and exits
`;
const { file, top } = summaryArgs('profile-summary', USAGE);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
// Self time per node from the samples and their time deltas (µs). The deltas are wall time: a
// thread taken off its core (two shared cores, a worker woken by postMessage) is charged, on
// resuming, to wherever it was. So a second count keeps only the samples that came at most twice
// the sampling interval (the median delta) after the one before: an estimate of time on the CPU.
const selfUs = new Map<number, number>();
const onCpuUs = new Map<number, number>();
const interval = [...p.timeDeltas].sort((a, b) => a - b)[p.timeDeltas.length >> 1] ?? 0;
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i]!;
  const us = p.timeDeltas[i + 1] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  if (us <= 2 * interval) onCpuUs.set(id, (onCpuUs.get(id) ?? 0) + us);
}
const where = (url: string): string => {
  if (url === '') return '';
  const m = /\/(cloud-processor|storage|firmware-schemas|runtime|bench|test)\/dist\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  const nm = /node_modules\/(.*)$/.exec(url);
  return nm ? nm[1]! : basename(url);
};
const nameOf = (id: number): { name: string; file: string; idle: boolean } => {
  const f = byId.get(id)!.callFrame;
  const file = where(f.url) || '(native)';
  const name = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  return { name, file, idle: f.functionName === '(idle)' };
};
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const { name, file, idle } = nameOf(id);
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  if (!idle) byFile.set(file, (byFile.get(file) ?? 0) + us);
  total += us;
}
const onCpu = new Map<string, number>();
for (const [id, us] of onCpuUs) {
  const { name } = nameOf(id);
  onCpu.set(name, (onCpu.get(name) ?? 0) + us);
}
const busy = total - (byFunction.get('(idle) (native)') ?? 0);
const busyOnCpu = [...onCpu].reduce((n, [k, us]) => (k.startsWith('(idle)') ? n : n + us), 0);
const row = (us: number, what: string, of = busy): string =>
  `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / of).toFixed(1).padStart(5)} %  ${what}\n`;
process.stdout.write(
  `${file}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function (share of busy time):\n`,
);
const sorted = (m: Map<string, number>): Array<[string, number]> =>
  [...m].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
for (const [name, us] of sorted(byFunction).slice(0, top)) process.stdout.write(row(us, name));
process.stdout.write('\nself time by file:\n');
for (const [name, us] of sorted(byFile).slice(0, top)) process.stdout.write(row(us, name));
process.stdout.write(
  `\nself time by function on the CPU (samples at most ${((2 * interval) / 1000).toFixed(1)} ms after the one before; ${(busyOnCpu / 1e6).toFixed(2)} s busy):\n`,
);
for (const [name, us] of sorted(onCpu).slice(0, top)) process.stdout.write(row(us, name, busyOnCpu));
process.stdout.write(
  `${JSON.stringify({
    file,
    busy_ms: Math.round(busy / 1000),
    busy_on_cpu_ms: Math.round(busyOnCpu / 1000),
    functions: Object.fromEntries(
      sorted(byFunction)
        .slice(0, top)
        .map(([k, us]) => [k, Math.round(us / 1000)]),
    ),
    functions_on_cpu: Object.fromEntries(
      sorted(onCpu)
        .slice(0, top)
        .map(([k, us]) => [k, Math.round(us / 1000)]),
    ),
  })}\n`,
);
