import { SeriesTable, type SeriesNode } from '../series-table.js';

class StateNode<S> implements SeriesNode {
  older: SeriesNode | undefined = undefined;
  newer: SeriesNode | undefined = undefined;
  constructor(
    readonly device: string,
    readonly metric: string,
    readonly state: S,
  ) {}
}

/**
 * Per-series state of a stateful filter, bounded by `maxSeries`: at the bound the least recently
 * updated series' state is forgotten (reported through `onEvict`), so its next reading is judged
 * as the first of a new series.
 */
export class SeriesState<S> {
  private readonly table = new SeriesTable<StateNode<S>>();

  constructor(
    private readonly maxSeries: number,
    private readonly create: () => S,
    private readonly onEvict: () => void,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** The state of a series, made (and the oldest evicted at the bound) on its first reading. */
  get(device: string, metric: string): S {
    let node = this.table.get(device, metric);
    if (node !== undefined) {
      this.table.touch(node);
      return node.state;
    }
    if (this.table.size >= this.maxSeries) {
      const oldest = this.table.oldest();
      if (oldest !== undefined) {
        this.table.delete(oldest);
        this.onEvict();
      }
    }
    node = new StateNode(device, metric, this.create());
    this.table.insert(node);
    return node.state;
  }
}
