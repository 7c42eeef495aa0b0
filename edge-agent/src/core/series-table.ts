/** A node of a SeriesTable: one series (device + metric) with its place in the recency list. */
export interface SeriesNode {
  readonly device: string;
  readonly metric: string;
  /** Towards the least recently used end; owned by the table. */
  older: SeriesNode | undefined;
  /** Towards the most recently used end; owned by the table. */
  newer: SeriesNode | undefined;
}

/**
 * Series state keyed by device, then metric, without building a key string per reading, plus an
 * intrusive doubly linked list in order of last use so the least recently used series is found,
 * moved and removed in O(1). The table does not bound itself: its owners apply their own policy
 * at their bound (`maxSeries` with reject-new or evict-lru, a filter's `maxSeries`).
 */
export class SeriesTable<N extends SeriesNode> {
  private readonly devices = new Map<string, Map<string, N>>();
  private oldestNode: N | undefined;
  private newestNode: N | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The metrics map of the device looked up last: the readings of one message share a device. */
  private lastDevice: string | undefined;
  private lastMetrics: Map<string, N> | undefined;

  get(device: string, metric: string): N | undefined {
    if (device !== this.lastDevice) {
      this.lastDevice = device;
      this.lastMetrics = this.devices.get(device);
    }
    return this.lastMetrics?.get(metric);
  }

  /** The least recently inserted or touched node. */
  oldest(): N | undefined {
    return this.oldestNode;
  }

  /** Adds a node not in the table yet, as the most recently used. */
  insert(node: N): void {
    let metrics = this.devices.get(node.device);
    if (metrics === undefined) {
      metrics = new Map();
      this.devices.set(node.device, metrics);
      if (node.device === this.lastDevice) this.lastMetrics = metrics;
    }
    metrics.set(node.metric, node);
    this.count++;
    this.link(node);
  }

  /** Marks a node as the most recently used. */
  touch(node: N): void {
    if (this.newestNode === node) return;
    this.unlink(node);
    this.link(node);
  }

  delete(node: N): void {
    const metrics = this.devices.get(node.device);
    if (metrics?.get(node.metric) !== node) return;
    metrics.delete(node.metric);
    if (metrics.size === 0) {
      this.devices.delete(node.device);
      if (node.device === this.lastDevice) this.lastMetrics = undefined;
    }
    this.count--;
    this.unlink(node);
  }

  clear(): void {
    this.devices.clear();
    this.lastDevice = this.lastMetrics = undefined;
    this.oldestNode = this.newestNode = undefined;
    this.count = 0;
  }

  /** Calls `fn` for every node from the least to the most recently used; `fn` may delete the node it is given. */
  forEach(fn: (node: N) => void): void {
    let node = this.oldestNode;
    while (node !== undefined) {
      const next = node.newer as N | undefined;
      fn(node);
      node = next;
    }
  }

  /** Calls `fn` for every node of one device; `fn` may delete the node it is given. */
  forEachOf(device: string, fn: (node: N) => void): void {
    const metrics = this.devices.get(device);
    if (metrics !== undefined) for (const node of metrics.values()) fn(node);
  }

  private link(node: N): void {
    node.newer = undefined;
    node.older = this.newestNode;
    if (this.newestNode !== undefined) this.newestNode.newer = node;
    else this.oldestNode = node;
    this.newestNode = node;
  }

  private unlink(node: N): void {
    const { older, newer } = node;
    if (older !== undefined) older.newer = newer;
    else this.oldestNode = newer as N | undefined;
    if (newer !== undefined) newer.older = older;
    else this.newestNode = older as N | undefined;
    node.older = node.newer = undefined;
  }
}
