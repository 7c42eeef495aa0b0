/**
 * A histogram's range of bins stored as runs of them, the empty stretches between runs left out: a
 * young series' histogram has as many empty bins in its range as full ones (a window rules'
 * history after 150 windows: 81 bins, 31 of them not empty, in 11 runs). Each run is a header
 * (its first bin's index in the range × RUN_SPLIT + its length, an integer a float holds exactly)
 * and its bins' weights; runs in order of their bins. A lone empty bin between two runs stays in
 * the run (a header would cost as much). Reading the runs' weights in order, with the empty bins
 * as 0, gives the dense range's sums bit for bit: adding 0 changes no sum.
 *
 * Functions over a typed array (the owner's slab view: float32 or float64 weights) and the index
 * its runs start at, `stored` floats long.
 */
export type Floats = Float32Array | Float64Array;

/** A header holds index × RUN_SPLIT + length (both under 1024: a range holds at most 640 bins). */
export const RUN_SPLIT = 1024;

/** The first bin of the run whose header is h. */
export function runStart(h: number): number {
  return (h / RUN_SPLIT) | 0;
}

/** The bins in the run whose header is h. */
export function runLength(h: number): number {
  return h - ((h / RUN_SPLIT) | 0) * RUN_SPLIT;
}

/** The index in `data` of bin `i`'s weight, or −1 when bin i is in no run (its weight is 0). */
export function findBin(data: Floats, at: number, stored: number, i: number): number {
  const end = at + stored;
  for (let p = at; p < end; ) {
    const h = data[p]!;
    const start = (h / RUN_SPLIT) | 0;
    if (i < start) return -1;
    const length = h - start * RUN_SPLIT;
    if (i < start + length) return p + 1 + i - start;
    p += 1 + length;
  }
  return -1;
}

/** Writes the `span` bins of the dense range held as runs into `dense` (which must be zero). */
export function decodeRuns(data: Floats, at: number, stored: number, dense: Floats): void {
  const end = at + stored;
  for (let p = at; p < end; ) {
    const h = data[p]!;
    const start = (h / RUN_SPLIT) | 0;
    const length = h - start * RUN_SPLIT;
    for (let j = 0; j < length; j++) dense[start + j] = data[p + 1 + j]!;
    p += 1 + length;
  }
}

/** The bin after the last run's (0 when there is no run): the runs' bins all lie below it. */
export function runsEnd(data: Floats, at: number, stored: number): number {
  const end = at + stored;
  let after = 0;
  for (let p = at; p < end; ) {
    const h = data[p]!;
    const length = h - ((h / RUN_SPLIT) | 0) * RUN_SPLIT;
    after = ((h / RUN_SPLIT) | 0) + length;
    p += 1 + length;
  }
  return after;
}

/** Floats the runs of the first `span` bins of `dense` take (`from`: the bins below it are all empty). */
export function runsLength(dense: Floats, span: number, from = 0): number {
  let floats = 0;
  for (let i = from; i < span; ) {
    const start = nonEmpty(dense, i, span);
    if (start === span) break;
    const end = runEnd(dense, start, span);
    floats += 1 + end - start;
    i = end;
  }
  return floats;
}

/** Writes the runs of the first `span` bins of `dense` at `data[at]` (runsLength(dense, span, from) floats; `from` as there). */
export function encodeRuns(dense: Floats, span: number, data: Floats, at: number, from = 0): void {
  let p = at;
  for (let i = from; i < span; ) {
    const start = nonEmpty(dense, i, span);
    if (start === span) break;
    const end = runEnd(dense, start, span);
    data[p++] = start * RUN_SPLIT + (end - start);
    for (let j = start; j < end; j++) data[p++] = dense[j]!;
    i = end;
  }
}

/** Multiplies every weight held by k (the headers left as they are). */
export function scaleRuns(data: Floats, at: number, stored: number, k: number): void {
  const end = at + stored;
  for (let p = at; p < end; ) {
    const h = data[p]!;
    const length = h - ((h / RUN_SPLIT) | 0) * RUN_SPLIT;
    for (let j = p + 1; j <= p + length; j++) data[j]! *= k;
    p += 1 + length;
  }
}

/** The first bin from i on that is not empty (span when none). */
function nonEmpty(dense: Floats, i: number, span: number): number {
  while (i < span && dense[i] === 0) i++;
  return i;
}

/** Where the run that starts at `start` ends: at the first two empty bins in a row, or the range's end (trailing empty bins left out). */
function runEnd(dense: Floats, start: number, span: number): number {
  let end = start + 1;
  for (;;) {
    if (end < span && dense[end] !== 0) end++;
    else if (end + 1 < span && dense[end + 1] !== 0) end += 2;
    else return end;
  }
}
