import type { SeriesInput } from '../detection.js';

/**
 * A worker's share of a batch's points, in a form that crosses to a worker thread without being
 * cloned point by point: the numbers in one Float64Array (transferred, not copied) and the names
 * once each in an array of strings. Each point takes COLUMNS numbers: ts, lengthMs, value, min,
 * max, stddev, count, first, last, outOfRange, a bit set of which optional ones are present, and
 * the places of its device and metric in `names`. A device's name crosses once a batch, not once
 * per metric, and a metric's once whatever the devices: less to clone, and on the worker's side
 * one string for all of a device's points, hashed once for every lookup by it.
 */
export interface PointColumns {
  readonly numbers: Float64Array;
  /** Every device and metric name of the points, once each. */
  readonly names: string[];
}

const COLUMNS = 13;
const HAS_FIRST = 1;
const HAS_LAST = 2;
const HAS_OUT_OF_RANGE = 4;

/** Packs points (in their order). */
export function packPoints(points: readonly SeriesInput[]): PointColumns {
  const numbers = new Float64Array(points.length * COLUMNS);
  const names: string[] = [];
  // Names are data: a Map, never a plain object's keys.
  const places = new Map<string, number>();
  const placeOf = (name: string): number => {
    let at = places.get(name);
    if (at === undefined) {
      at = names.push(name) - 1;
      places.set(name, at);
    }
    return at;
  };
  let i = 0;
  for (const p of points) {
    numbers[i++] = p.ts;
    numbers[i++] = p.lengthMs;
    numbers[i++] = p.value;
    numbers[i++] = p.min;
    numbers[i++] = p.max;
    numbers[i++] = p.stddev;
    numbers[i++] = p.count;
    numbers[i++] = p.first ?? 0;
    numbers[i++] = p.last ?? 0;
    numbers[i++] = p.outOfRange ?? 0;
    numbers[i++] =
      (p.first === undefined ? 0 : HAS_FIRST) |
      (p.last === undefined ? 0 : HAS_LAST) |
      (p.outOfRange === undefined ? 0 : HAS_OUT_OF_RANGE);
    numbers[i++] = placeOf(p.device);
    numbers[i++] = placeOf(p.metric);
  }
  return { numbers, names };
}

/** The points back, as the processor makes them (the same keys, in the same order, when all are present). */
export function unpackPoints({ numbers, names }: PointColumns): SeriesInput[] {
  const points: SeriesInput[] = [];
  for (let i = 0; i < numbers.length; i += COLUMNS) {
    const has = numbers[i + 10]!;
    const point: { -readonly [K in keyof SeriesInput]: SeriesInput[K] } = {
      device: names[numbers[i + 11]!]!,
      metric: names[numbers[i + 12]!]!,
      ts: numbers[i]!,
      lengthMs: numbers[i + 1]!,
      value: numbers[i + 2]!,
      min: numbers[i + 3]!,
      max: numbers[i + 4]!,
      stddev: numbers[i + 5]!,
      count: numbers[i + 6]!,
    };
    if (has & HAS_FIRST) point.first = numbers[i + 7]!;
    if (has & HAS_LAST) point.last = numbers[i + 8]!;
    if (has & HAS_OUT_OF_RANGE) point.outOfRange = numbers[i + 9]!;
    points.push(point);
  }
  return points;
}

/**
 * Which of `shards` a device belongs to, with every series of it: FNV-1a over its id. By device,
 * not by series, because the device detector judges all of a device's metrics together. The same
 * in every process and run, so a device stays on its worker for the life of the processor.
 */
export function shardOf(device: string, shards: number): number {
  if (shards === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < device.length; i++) h = Math.imul(h ^ device.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}
