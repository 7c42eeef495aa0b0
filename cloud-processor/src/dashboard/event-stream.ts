import type { IncomingMessage, ServerResponse } from 'node:http';

/** Why a stream was refused or cut: at the bound of streams, or a reader too slow for its buffer. */
export type StreamLoss = 'full' | 'slow';

/**
 * Server-sent events (HTML Living Standard, "Server-sent events") to the dashboards open now.
 * Bounded twice: at most `maxStreams` at once (more are answered 503 with Retry-After), and a
 * reader whose unsent frames pass `maxBufferedBytes` is cut off (its browser reconnects and gets a
 * fresh snapshot), so one stalled tab cannot hold memory. Each loss goes to `lost`.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly maxStreams: number,
    private readonly maxBufferedBytes: number,
    private readonly lost: (why: StreamLoss) => void,
  ) {}

  /** Answers a GET with a stream that starts with `first` (the state the page draws from). */
  accept(req: IncomingMessage, res: ServerResponse, first: ReadonlyArray<readonly [string, unknown]>): void {
    if (this.open.size >= this.maxStreams) {
      this.lost('full');
      res
        .writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' })
        .end(JSON.stringify({ error: `${this.maxStreams} dashboards already open (http.maxEventStreams)` }));
      return;
    }
    // `retry`: the browser reconnects 2 s after a cut; no-transform keeps proxies from buffering.
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const [event, data] of first) res.write(frame(event, data));
    this.open.add(res);
    req.socket.setNoDelay(true);
    res.on('close', () => this.open.delete(res));
  }

  /** Sends one event to every open stream. */
  send(event: string, data: unknown): void {
    if (this.open.size === 0) return;
    this.write(frame(event, data));
  }

  /** A comment line, so proxies and the browser see the connection alive when nothing happens. */
  heartbeat(): void {
    this.write(': keep-alive\n\n');
  }

  get size(): number {
    return this.open.size;
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  private write(text: string): void {
    for (const res of this.open) {
      if (res.writableLength > this.maxBufferedBytes) {
        this.open.delete(res);
        res.destroy();
        this.lost('slow');
        continue;
      }
      res.write(text);
    }
  }
}

/** One event: JSON escapes every newline, so the data is one `data:` line. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
