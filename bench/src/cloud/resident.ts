import { MB } from './figures.js';
import type { ProcessorRunResult } from './processor-run.js';

const mb = (bytes: number): number => Math.round(bytes / MB);

/** Where a run's resident memory is at its end, in MB for the JSON line. */
export const residentMb = ({ end: e }: ProcessorRunResult): Record<string, number> => ({
  anon: mb(e.rssAnonBytes),
  file: mb(e.rssFileBytes),
  main_heap: mb(e.mainHeapBytes),
  array_buffers: mb(e.arrayBuffersBytes),
  array_buffers_held: mb(e.arrayBuffersAfterGcBytes),
  workers_heaps: mb(e.workersHeapBytes),
  workers_external: mb(e.workersExternalBytes),
});

/** Where a run's resident memory is at its end, in words: what each part holds and the rest. */
export const residentOf = ({ end: e }: ProcessorRunResult): string => {
  const known = e.mainHeapBytes + e.arrayBuffersBytes + e.workersHeapBytes + e.workersExternalBytes;
  return `resident at the end: ${mb(e.rssAnonBytes + e.rssFileBytes)} MB = code (file-backed) ${mb(e.rssFileBytes)} + event loop's heap ${mb(e.mainHeapBytes)} + its array buffers ${mb(e.arrayBuffersBytes)} (${mb(e.arrayBuffersAfterGcBytes)} held, the rest garbage a full collection frees) + detection workers' heaps ${mb(e.workersHeapBytes)} + their external memory ${mb(e.workersExternalBytes)} + the rest (isolates, compiler zones, malloc, stacks) ${mb(e.rssAnonBytes - known)}`;
};
