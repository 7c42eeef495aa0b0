import { MB } from './figures.js';
import type { ProcessorRunResult } from './processor-run.js';

const mb = (bytes: number): number => Math.round(bytes / MB);

/** Where a run's resident memory is at its end, in MB. */
const residentMb = ({ end: e }: ProcessorRunResult): Record<string, number> => ({
  anon: mb(e.rssAnonBytes),
  file: mb(e.rssFileBytes),
  malloc: mb(e.mallocBytes),
  main_heap: mb(e.mainHeapBytes),
  array_buffers: mb(e.arrayBuffersBytes),
  array_buffers_held: mb(e.arrayBuffersAfterGcBytes),
  workers_heaps: mb(e.workersHeapBytes),
  workers_external: mb(e.workersExternalBytes),
});

/** Where a run's resident memory is at its end, in words: what each part holds and the rest. */
export const residentOf = ({ end: e }: ProcessorRunResult): string => {
  const known = e.mainHeapBytes + e.arrayBuffersBytes + e.workersHeapBytes + e.workersExternalBytes;
  return `resident at the end: ${mb(e.rssAnonBytes + e.rssFileBytes)} MB = code (file-backed) ${mb(e.rssFileBytes)} + event loop's heap ${mb(e.mainHeapBytes)} + its array buffers ${mb(e.arrayBuffersBytes)} (${mb(e.arrayBuffersAfterGcBytes)} held, the rest garbage a full collection frees) + detection workers' heaps ${mb(e.workersHeapBytes)} + their external memory ${mb(e.workersExternalBytes)} + the rest (isolates, compiler zones, malloc, stacks) ${mb(e.rssAnonBytes - known)}; glibc malloc's arenas hold ${mb(e.mallocBytes)} of the anonymous memory (Buffers and array buffers of every thread among them)`;
};

/** A run's memory figures of the JSON line (peaks, at the end, resident by part), their keys after `prefix`. */
export const memoryFigures = (
  prefix: string,
  r: ProcessorRunResult,
): Record<string, number | Record<string, number>> => ({
  [`${prefix}rss_max_mb`]: mb(r.rssMaxBytes),
  [`${prefix}heap_used_mb`]: mb(r.heapUsedBytes),
  [`${prefix}main_heap_total_max_mb`]: mb(r.mainHeapTotalMaxBytes),
  [`${prefix}main_heap_used_max_mb`]: mb(r.mainHeapUsedMaxBytes),
  [`${prefix}external_max_mb`]: mb(r.externalMaxBytes),
  [`${prefix}workers_heap_total_max_mb`]: mb(r.workersHeapTotalMaxBytes),
  [`${prefix}array_buffers_mb`]: mb(r.arrayBuffersBytes),
  [`${prefix}array_buffers_max_mb`]: mb(r.arrayBuffersMaxBytes),
  [`${prefix}workers_external_max_mb`]: mb(r.workersExternalMaxBytes),
  [`${prefix}resident_end_mb`]: residentMb(r),
});
