import { Backoff, type InfluxConfig, type Logger } from '@tributary/firmware-schemas';
import { InfluxDB, type IPoint } from 'influx';
import { RequestError } from 'influx/lib/src/pool.js';
import type { z } from 'zod';
import { anomalySchema, windowSchema } from './points.js';

type InfluxSettings = z.output<typeof InfluxConfig>;

/** Raised when a write is abandoned because the processor is stopping. */
export class WriteAbortedError extends Error {
  readonly code = 'WRITE_ABORTED';
}

/** InfluxDB refused the points themselves (HTTP 400): sending them again cannot succeed. */
export class PermanentWriteError extends Error {
  readonly code = 'WRITE_REJECTED';
}

function isPermanent(err: unknown): boolean {
  return err instanceof RequestError && (err.res as { statusCode?: number }).statusCode === 400;
}

/**
 * Writes points to InfluxDB 1.x through node-influx, which escapes measurement names, tag keys and
 * values on the line protocol. Measurements are registered with their field types the first time
 * a metric is seen. `writeDurably` retries with backoff until the write succeeds or `abort()`.
 */
export class InfluxWriter {
  readonly influx: InfluxDB;
  private readonly known = new Set<string>();
  private aborted = false;
  private readonly wakeups = new Set<() => void>();

  constructor(
    private readonly config: InfluxSettings,
    private readonly log: Logger,
    private readonly onRetry: () => void = () => undefined,
  ) {
    const url = new URL(config.url);
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: config.database,
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      options: { timeout: config.timeoutMs },
    });
    this.influx.addSchema(anomalySchema(config.database));
  }

  /** Creates the database when allowed and missing; retries until InfluxDB answers or abort. */
  async ensureDatabase(): Promise<void> {
    await this.retrying('create database', async () => {
      const names = await this.influx.getDatabaseNames();
      if (!names.includes(this.config.database)) {
        if (!this.config.createDatabase) throw new Error(`database ${this.config.database} does not exist and createDatabase is false`);
        await this.influx.createDatabase(this.config.database);
      }
    });
  }

  /** Registers the field types of a metric's measurement once. */
  registerMetric(metric: string): void {
    if (this.known.has(metric)) return;
    this.known.add(metric);
    this.influx.addSchema(windowSchema(this.config.database, metric));
  }

  /** Writes the points, retrying with backoff until InfluxDB accepts them or `abort()` is called. */
  async writeDurably(points: IPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.retrying('write', () => this.influx.writePoints(points, { precision: 'ms' }));
  }

  /** Stops retrying: pending writes reject with WriteAbortedError. */
  abort(): void {
    this.aborted = true;
    for (const wake of this.wakeups) wake();
  }

  private async retrying(what: string, attempt: () => Promise<void>): Promise<void> {
    const backoff = new Backoff(250, 10_000);
    for (;;) {
      if (this.aborted) throw new WriteAbortedError(`InfluxDB ${what} abandoned: stopping`);
      try {
        await attempt();
        if (backoff.attempts > 0) this.log.info({ attempts: backoff.attempts }, `InfluxDB ${what} succeeded after retrying`);
        return;
      } catch (err) {
        if (isPermanent(err)) throw new PermanentWriteError(`InfluxDB refused the ${what}: ${(err as Error).message}`, { cause: err });
        const delay = backoff.next();
        this.onRetry();
        if (backoff.attempts === 1 || backoff.attempts % 10 === 0) this.log.warn({ err: (err as Error).message, attempts: backoff.attempts, retryInMs: delay }, `InfluxDB ${what} failed; retrying`);
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.wakeups.delete(done);
            resolve();
          };
          const timer = setTimeout(done, delay);
          this.wakeups.add(done);
        });
      }
    }
  }
}
