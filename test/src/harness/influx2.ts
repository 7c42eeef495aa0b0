import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** How a refused line is answered: as InfluxDB 2.7 OSS, as 3.x/Cloud (the good lines written), or a malformed request (nothing written). */
export type RefusalStyle = '2.7' | '3.x' | 'whole-request';

/** An answer to give instead of the normal one (429 with Retry-After, 503, ...). */
export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export interface WriteSeen {
  readonly at: number;
  readonly lines: number;
  readonly gzipped: boolean;
  readonly status: number;
}

/**
 * The InfluxDB 2.x write API for what the real 1.6 influxd cannot produce. It checks what 2.x
 * checks — POST /api/v2/write, `org`, `bucket` and `precision` query parameters,
 * `Authorization: Token …`, gzip `Content-Encoding` — and answers as 2.x does: 204; 401
 * `{"code":"unauthorized",...}`; 404 for an unknown org or bucket; 413 over `maxLines`; refused
 * lines as 2.7 (422 "partial write", the rest written), as 3.x (400 "invalid" with "partial
 * write", the rest written) or as a malformed request (400, nothing written); scripted answers
 * (429 + Retry-After, 503) before any of that. Accepted lines are kept, deduplicated by identity
 * as InfluxDB does (same measurement, tags and time overwrite).
 */
export class Influx2Server {
  readonly points = new Map<string, string>();
  readonly writes: WriteSeen[] = [];
  token: string;
  refuse: (line: string) => boolean = () => false;
  refusalStyle: RefusalStyle = '2.7';
  maxLines = Infinity;
  readonly script: ScriptedAnswer[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly org: string,
    readonly bucket: string,
    token: string,
  ) {
    this.token = token;
  }

  static async start(org = 'tributary-org', bucket = 'tributary', token = 'secret-token'): Promise<Influx2Server> {
    let self!: Influx2Server;
    const server = createServer((req, res) => void self.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new Influx2Server(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, org, bucket, token);
    return self;
  }

  /** Lines stored, in no particular order. */
  get lines(): string[] {
    return [...this.points.values()];
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const url = new URL(req.url ?? '/', this.url);
    const gzipped = req.headers['content-encoding'] === 'gzip';
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}, lines = 0): void => {
      this.writes.push({ at: Date.now(), lines, gzipped, status });
      res
        .writeHead(
          status,
          body === undefined ? headers : { 'content-type': 'application/json; charset=utf-8', ...headers },
        )
        .end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method !== 'POST' || url.pathname !== '/api/v2/write')
      return answer(404, { code: 'not found', message: 'path not found' });
    if (req.headers.authorization !== `Token ${this.token}`)
      return answer(401, { code: 'unauthorized', message: 'unauthorized access' });
    const org = url.searchParams.get('org');
    const bucket = url.searchParams.get('bucket');
    if (org === null || bucket === null)
      return answer(400, { code: 'invalid', message: 'Please provide either orgID or org' });
    if (org !== this.org) return answer(404, { code: 'not found', message: `organization name "${org}" not found` });
    if (bucket !== this.bucket) return answer(404, { code: 'not found', message: `bucket "${bucket}" not found` });
    if (!['ns', 'us', 'ms', 's'].includes(url.searchParams.get('precision') ?? 'ns'))
      return answer(400, { code: 'invalid', message: 'invalid precision' });
    let text: string;
    try {
      text = (gzipped ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks)).toString('utf8');
    } catch {
      return answer(400, { code: 'invalid', message: 'gzip: invalid header' });
    }
    const lines = text.split('\n').filter((l) => l !== '');
    const scripted = this.script.shift();
    if (scripted) return answer(scripted.status, scripted.body, scripted.headers, lines.length);
    if (lines.length > this.maxLines)
      return answer(
        413,
        { code: 'request too large', message: 'unable to read data: points batch is too large' },
        {},
        lines.length,
      );
    const refused = lines.filter((l) => this.refuse(l));
    if (refused.length > 0 && this.refusalStyle === 'whole-request')
      return answer(
        400,
        { code: 'invalid', message: `unable to parse '${refused[0]}': invalid field format` },
        {},
        lines.length,
      );
    for (const l of lines) if (!this.refuse(l)) this.points.set(identity(l), l);
    if (refused.length === 0) return answer(204, undefined, {}, lines.length);
    const conflict = `field type conflict: input field "count" on measurement "${refused[0]!.split(',')[0]}" is type float, already exists as type integer dropped=${refused.length}`;
    if (this.refusalStyle === '2.7')
      return answer(
        422,
        { code: 'unprocessable entity', message: `failure writing points to database: partial write: ${conflict}` },
        {},
        lines.length,
      );
    return answer(400, { code: 'invalid', message: `partial write: ${conflict}` }, {}, lines.length);
  }
}

/** Measurement + tags + timestamp of a line (Tributary's lines: no spaces left unescaped in the key). */
function identity(line: string): string {
  const parts = line.split(/(?<!\\) /);
  return `${parts[0]} ${parts[parts.length - 1]}`;
}
