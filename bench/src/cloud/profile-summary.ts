/**
 * node bench/dist/cloud/profile-summary.js FILE.cpuprofile [TOP] — where a thread's CPU went: the
 * profile's self time by function (name, file and line), largest first, with each one's share of
 * the samples; and the same summed by file. For bench:cloud's --profile (one .cpuprofile per
 * thread). Prints tables, then one line of JSON (ms).
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
// Self time per node from the samples and their time deltas (µs).
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
}
const where = (url: string): string => {
  if (url === '') return '';
  const m = /\/(cloud-processor|storage|firmware-schemas|runtime|bench|test)\/dist\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  const nm = /node_modules\/(.*)$/.exec(url);
  return nm ? nm[1]! : basename(url);
};
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const file = where(f.url) || '(native)';
  const name = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  if (f.functionName !== '(idle)') byFile.set(file, (byFile.get(file) ?? 0) + us);
  total += us;
}
const busy = total - (byFunction.get('(idle) (native)') ?? 0);
const row = (us: number, what: string): string =>
  `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${what}\n`;
process.stdout.write(
  `${file}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function (share of busy time):\n`,
);
const sorted = (m: Map<string, number>): Array<[string, number]> =>
  [...m].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
for (const [name, us] of sorted(byFunction).slice(0, top)) process.stdout.write(row(us, name));
process.stdout.write('\nself time by file:\n');
for (const [name, us] of sorted(byFile).slice(0, top)) process.stdout.write(row(us, name));
process.stdout.write(
  `${JSON.stringify({
    file,
    busy_ms: Math.round(busy / 1000),
    functions: Object.fromEntries(
      sorted(byFunction)
        .slice(0, top)
        .map(([k, us]) => [k, Math.round(us / 1000)]),
    ),
  })}\n`,
);
