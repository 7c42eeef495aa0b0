/**
 * node bench/dist/cloud/heap-summary.js FILE.heapsnapshot [TOP] — what holds a V8 heap: the
 * snapshot's objects summed by class (self size, as DevTools' Summary view), and the single
 * objects that retain the most (retained size over the dominator tree, weak edges left out), each
 * with its chain of dominators up to the root. For bench:cloud's --heap-snapshots; prints tables
 * on stdout and one line of JSON (MB) at the end.
 */
import { readFileSync } from 'node:fs';
import { summaryArgs } from './summary-args.js';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    node_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const USAGE = `usage: node bench/dist/cloud/heap-summary.js FILE.heapsnapshot [TOP]

Prints the tables of what holds the heap in FILE (bench:cloud's --heap-snapshots
writes them), TOP rows each (25), then one line of JSON.

  -h, --help   prints this and exits
`;
const { file, top } = summaryArgs('heap-summary', USAGE);
const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const meta = s.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf('type');
const nName = meta.node_fields.indexOf('name');
const nSize = meta.node_fields.indexOf('self_size');
const nEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const WEAK = edgeTypes.indexOf('weak');
const SHORTCUT = edgeTypes.indexOf('shortcut');
const n = s.nodes.length / NF;

const firstEdge = new Uint32Array(n + 1);
for (let i = 0, e = 0; i < n; i++) {
  firstEdge[i] = e;
  e += s.nodes[i * NF + nEdges]! * EF;
  firstEdge[i + 1] = e;
}
const selfSize = (i: number): number => s.nodes[i * NF + nSize]!;
/** DevTools' class name: an object's constructor, else the node type in brackets. */
function className(i: number): string {
  const type = nodeTypes[s.nodes[i * NF + nType]!]!;
  const name = s.strings[s.nodes[i * NF + nName]!]!;
  if (type === 'object' || type === 'native') return name;
  if (type === 'closure') return `(closure) ${name}`.slice(0, 60);
  return `(${type})`;
}

// Postorder from the root (node 0) over strong edges, iteratively.
const post = new Int32Array(n).fill(-1);
const order: number[] = [];
{
  const stack: number[] = [0];
  const cursor = new Uint32Array(n);
  const seen = new Uint8Array(n);
  seen[0] = 1;
  for (let i = 0; i < n; i++) cursor[i] = firstEdge[i]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (cursor[v]! < firstEdge[v + 1]!) {
      const e = cursor[v]!;
      cursor[v] = e + EF;
      const t = s.edges[e + eType]!;
      if (t === WEAK || t === SHORTCUT) continue;
      const w = s.edges[e + eTo]! / NF;
      if (seen[w]) continue;
      seen[w] = 1;
      stack.push(w);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      post[v] = order.length;
      order.push(v);
    }
  }
}

// Predecessors over the same edges, for reachable nodes.
const predCount = new Uint32Array(n + 1);
for (let v = 0; v < n; v++) {
  if (post[v]! < 0) continue;
  for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF) {
    const t = s.edges[e + eType]!;
    if (t === WEAK || t === SHORTCUT) continue;
    predCount[s.edges[e + eTo]! / NF]!++;
  }
}
const predStart = new Uint32Array(n + 1);
for (let v = 0; v < n; v++) predStart[v + 1] = predStart[v]! + predCount[v]!;
const preds = new Uint32Array(predStart[n]!);
const fill = predStart.slice(0, n);
for (let v = 0; v < n; v++) {
  if (post[v]! < 0) continue;
  for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF) {
    const t = s.edges[e + eType]!;
    if (t === WEAK || t === SHORTCUT) continue;
    const w = s.edges[e + eTo]! / NF;
    preds[fill[w]!++] = v;
  }
}

// Cooper, Harvey and Kennedy's iterative dominators, in reverse postorder.
const idom = new Int32Array(n).fill(-1);
idom[0] = 0;
for (let changed = true; changed; ) {
  changed = false;
  for (let k = order.length - 2; k >= 0; k--) {
    const v = order[k]!;
    let d = -1;
    for (let p = predStart[v]!; p < predStart[v + 1]!; p++) {
      let u = preds[p]!;
      if (idom[u]! < 0) continue;
      if (d < 0) {
        d = u;
        continue;
      }
      while (u !== d) {
        while (post[u]! < post[d]!) u = idom[u]!;
        while (post[d]! < post[u]!) d = idom[d]!;
      }
    }
    if (d >= 0 && idom[v] !== d) {
      idom[v] = d;
      changed = true;
    }
  }
}
const retained = new Float64Array(n);
for (const v of order) {
  retained[v]! += selfSize(v);
  if (v !== 0) retained[idom[v]!]! += retained[v]!;
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MB).toFixed(1).padStart(8);
const byClass = new Map<string, { count: number; self: number }>();
let total = 0;
for (const v of order) {
  const c = className(v);
  const e = byClass.get(c) ?? { count: 0, self: 0 };
  e.count++;
  e.self += selfSize(v);
  total += selfSize(v);
  byClass.set(c, e);
}
process.stdout.write(
  `${file}: ${(total / MB).toFixed(1)} MB reachable in ${order.length} objects\n\nby class (self size):\n`,
);
for (const [c, e] of [...byClass].sort((a, b) => b[1].self - a[1].self).slice(0, top))
  process.stdout.write(`${mb(e.self)} MB ${String(e.count).padStart(9)}  ${c}\n`);

/** The edge name by which `from` holds `to` (property name or index). */
function edgeName(from: number, to: number): string {
  for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF) {
    if (s.edges[e + eTo]! / NF !== to) continue;
    const t = edgeTypes[s.edges[e + eType]!];
    const name = s.edges[e + eName]!;
    return t === 'element' || t === 'hidden' ? `[${name}]` : `.${s.strings[name]}`;
  }
  return '';
}
/** The dominator chain of v from the root's side, up to 6 steps: `A.field → B[3] → C`. */
function chain(v: number): string {
  const steps: number[] = [];
  for (let u = v, k = 0; u !== 0 && k < 6; u = idom[u]!, k++) steps.unshift(u);
  return steps
    .map((u, k) => `${className(u).slice(0, 40)}${k + 1 < steps.length ? edgeName(u, steps[k + 1]!) : ''}`)
    .join(' → ');
}
// Objects retaining the most, leaving out those whose dominator was already listed with nearly as much.
process.stdout.write('\nlargest retainers (retained size, dominator chain):\n');
const candidates = order.filter((v) => v !== 0 && retained[v]! > MB).sort((a, b) => retained[b]! - retained[a]!);
let shown = 0;
for (const v of candidates) {
  if (shown >= top) break;
  const parent = idom[v]!;
  if (parent !== 0 && retained[parent]! < retained[v]! * 1.1 && candidates.includes(parent)) continue;
  process.stdout.write(`${mb(retained[v]!)} MB  ${chain(v)}\n`);
  shown++;
}
// Self sizes summed by owner: the nearest two dominators that are objects of a class or closure
// contexts (not strings, arrays, numbers or V8's internals), with the fields they hold it by.
const owned = new Map<string, number>();
const owner = (u: number): boolean => {
  const c = className(u);
  return c === 'system / Context' || (!c.startsWith('(') && !c.startsWith('system') && c !== 'Object' && c !== 'Array');
};
const ownerKey = new Map<number, string>();
function keyOf(v: number): string {
  const known = ownerKey.get(v);
  if (known !== undefined) return known;
  const names: string[] = [];
  let child = v;
  for (let u = idom[v]!, k = 0; u !== 0 && k < 2; child = u, u = idom[u]!)
    if (owner(u)) {
      names.unshift(`${className(u).slice(0, 40)}${edgeName(u, child)}`);
      k++;
    }
  const key = names.length === 0 ? `(root) ${className(v)}` : names.join(' → ');
  ownerKey.set(v, key);
  return key;
}
for (const v of order) if (v !== 0) owned.set(keyOf(v), (owned.get(keyOf(v)) ?? 0) + selfSize(v));
process.stdout.write(
  '\nby owner (self sizes summed by the nearest two objects of a class, or closure contexts, that hold them):\n',
);
for (const [k, b] of [...owned].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${mb(b)} MB  ${k}\n`);
// What is held from several places at once (its dominator is the root): summed by its holders,
// the first two referrers' class and field.
const shared = new Map<string, number>();
for (const v of order) {
  if (v === 0 || idom[v] !== 0) continue;
  const holders: string[] = [];
  for (let p = predStart[v]!; p < predStart[v + 1]! && holders.length < 2; p++) {
    const u = preds[p]!;
    if (u !== 0) holders.push(`${className(u).slice(0, 30)}${edgeName(u, v)}`);
  }
  const key = `${className(v)} held by ${holders.join(' and ')}`;
  shared.set(key, (shared.get(key) ?? 0) + retained[v]!);
}
process.stdout.write('\nheld from several places (retained, by class and its first two holders):\n');
for (const [k, b] of [...shared].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${mb(b)} MB  ${k}\n`);
process.stdout.write(
  `${JSON.stringify({
    file,
    reachable_mb: Math.round((total / MB) * 10) / 10,
    classes: Object.fromEntries(
      [...byClass]
        .sort((a, b) => b[1].self - a[1].self)
        .slice(0, top)
        .map(([c, e]) => [c, Math.round((e.self / MB) * 10) / 10]),
    ),
  })}\n`,
);
