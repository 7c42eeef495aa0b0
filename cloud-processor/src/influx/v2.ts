import type { InfluxConfig } from '@tributary/firmware-schemas';
import type { Body, HttpClient } from './http-client.js';
import { clientFor, endpoint, influxAuthHeaders, postLines, type WriteTarget } from './target.js';

/**
 * The InfluxDB 2.x / 3.x / Cloud write API: POST `/api/v2/write?org=&bucket=&precision=ms` with
 * `Authorization: Token <token>`. Buckets are not created here: API tokens usually may write but
 * not create buckets, so a missing bucket (404) is reported loudly and retried until it exists.
 */
export class InfluxV2Target implements WriteTarget {
  readonly description: string;
  readonly canCreate = false;
  private readonly client: HttpClient;
  private readonly writeUrl: URL;
  private readonly headers: Record<string, string>;

  constructor(config: InfluxConfig) {
    this.client = clientFor(config);
    this.writeUrl = endpoint(config.url, '/api/v2/write', { org: config.org, bucket: config.bucket, precision: 'ms' });
    this.headers = influxAuthHeaders(config);
    this.description = `InfluxDB v2 API ${new URL(config.url).origin} org ${config.org ?? ''} bucket ${config.bucket ?? ''}`;
  }

  write(body: Body, gzipped: boolean): Promise<void> {
    return postLines(this.client, this.writeUrl, this.headers, body, gzipped);
  }

  async ensure(): Promise<void> {
    // Nothing to create; the first write tells whether the bucket and token are right.
  }

  close(): void {
    this.client.close();
  }
}
