import type { InfluxConfig } from '@tributary/firmware-schemas';
import { quoteIdentifier } from '@tributary/storage';
import { NotFoundError, PermanentError } from './errors.js';
import type { Body, HttpClient } from './http-client.js';
import { classifyWrite } from './response.js';
import { clientFor, endpoint, influxAuthHeaders, postLines, type WriteTarget } from './target.js';

interface QuerySeries {
  readonly columns?: string[];
  readonly values?: unknown[][];
}

/**
 * InfluxDB 1.x: POST `/write?db=&rp=&precision=ms`, HTTP basic auth when a username is set.
 * On start, creates the database (`CREATE DATABASE`) and the retention policy when allowed.
 */
export class InfluxV1Target implements WriteTarget {
  readonly description: string;
  readonly canCreate: boolean;
  private readonly client: HttpClient;
  private readonly writeUrl: URL;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: InfluxConfig) {
    this.client = clientFor(config);
    this.canCreate = config.createDatabase;
    this.writeUrl = endpoint(config.url, '/write', {
      db: config.database,
      rp: config.retentionPolicy?.name,
      precision: 'ms',
    });
    this.headers = influxAuthHeaders(config);
    this.description = `InfluxDB 1.x ${new URL(config.url).origin} database ${config.database}${config.retentionPolicy ? ` retention policy ${config.retentionPolicy.name}` : ''}`;
  }

  write(body: Body, gzipped: boolean): Promise<void> {
    return postLines(this.client, this.writeUrl, this.headers, body, gzipped);
  }

  async ensure(): Promise<void> {
    const db = this.config.database;
    const databases = (await this.query('SHOW DATABASES'))[0]?.values?.map((row) => row[0]) ?? [];
    if (!databases.includes(db)) {
      if (!this.config.createDatabase)
        throw new NotFoundError(`database ${db} does not exist and influx.createDatabase is false`, 404);
      await this.query(`CREATE DATABASE ${quoteIdentifier(db)}`);
    }
    const rp = this.config.retentionPolicy;
    if (rp === undefined) return;
    const policies =
      (await this.query(`SHOW RETENTION POLICIES ON ${quoteIdentifier(db)}`))[0]?.values?.map((row) => row[0]) ?? [];
    if (policies.includes(rp.name)) return;
    if (!this.config.createDatabase)
      throw new NotFoundError(
        `retention policy ${rp.name} on ${db} does not exist and influx.createDatabase is false`,
        404,
      );
    const shard = rp.shardDuration === undefined ? '' : ` SHARD DURATION ${rp.shardDuration}`;
    await this.query(
      `CREATE RETENTION POLICY ${quoteIdentifier(rp.name)} ON ${quoteIdentifier(db)} DURATION ${rp.duration} REPLICATION ${rp.replication}${shard}${rp.makeDefault ? ' DEFAULT' : ''}`,
    );
  }

  close(): void {
    this.client.close();
  }

  /** Runs one InfluxQL statement through POST /query; throws the typed error of a failure. */
  private async query(q: string): Promise<QuerySeries[]> {
    const url = endpoint(this.config.url, '/query', {});
    const headers = { ...this.headers, 'content-type': 'application/x-www-form-urlencoded' };
    const answer = await this.client.call({
      method: 'POST',
      url,
      headers,
      body: Buffer.from(new URLSearchParams({ q }).toString()),
    });
    const err = classifyWrite(answer);
    if (err) throw err;
    let json: { results?: Array<{ error?: string; series?: QuerySeries[] }>; error?: string };
    try {
      json = JSON.parse(answer.body) as typeof json;
    } catch {
      throw new PermanentError(
        `${q}: InfluxDB answered with something that is not JSON: ${answer.body.slice(0, 200)}`,
        answer.status,
      );
    }
    const error = json.error ?? json.results?.[0]?.error;
    if (error !== undefined) throw new PermanentError(`${q}: ${error}`, answer.status);
    return json.results?.[0]?.series ?? [];
  }
}
