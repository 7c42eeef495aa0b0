import fc from 'fast-check';

/**
 * Arbitrary HTTP/1.1 requests as raw bytes, for fuzzing the processor's HTTP server over a socket
 * (RFC 9112): hostile request lines and header fields, bodies of random bytes, mutated batches and
 * deep nesting, framed by Content-Length (true, short, long, doubled, not a number) or chunked
 * (sizes true or not, the last chunk missing), bare LF line ends, split into writes at random
 * points. Agents named in them never equal `reserved` (the valid traffic's agent).
 */

/** What one fuzz connection sends, and where it is cut into writes. */
export interface HttpFuzzCase {
  readonly bytes: Buffer;
  readonly splits: number[];
}

const token = fc.string({
  minLength: 1,
  maxLength: 12,
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_0123456789'),
});

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('POST', 'GET') },
  fc.constantFrom('PUT', 'HEAD', 'DELETE', 'OPTIONS', 'CONNECT', 'PRI', 'post', ''),
  token.map((t) => t.toUpperCase()),
);

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '/api/v1/batches',
      '/api/v1/batches?x=1',
      '/metrics',
      '/health',
      '/api/agents',
      '/api/alerts',
    ),
  },
  fc.constantFrom(
    '*',
    'http://127.0.0.1/api/v1/batches',
    '//api/v1/batches',
    '/api/v1/batches/../metrics',
    '/%00',
    '/\u00e9',
    '/api/v1/batches#frag',
    '',
  ),
  fc.string({ maxLength: 40 }).map((s) => `/${s}`),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `/${'a'.repeat(n)}`),
);

const version = fc.oneof(
  { weight: 8, arbitrary: fc.constant('HTTP/1.1') },
  fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', 'HTTPS/1.1', ''),
);

/** Header fields besides the framing ones: the agent header, tokens, junk names and values, obsolete line folding. */
const header = (reserved: string) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          token.map((t) => `fz-${t}`),
          fc.constantFrom('', ' ', 'a b', 'x'.repeat(70), '__proto__', 'constructor', 'caf\u00e9'),
        )
        .filter((a) => a !== reserved)
        .map((a) => `x-tributary-agent: ${a}`),
    },
    fc.constantFrom(
      'content-type: application/json',
      'content-type: text/plain',
      'authorization: Bearer nope',
      'authorization: Basic Og==',
      'connection: close',
      'connection: keep-alive',
      'expect: 100-continue',
      'host: 127.0.0.1',
      'host:',
      'x-a: b\r\n c',
    ),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })).map(([n, v]) => `${n}: ${v}`),
    fc.integer({ min: 1_000, max: 40_000 }).map((n) => `x-long: ${'v'.repeat(n)}`),
    fc.integer({ min: 50, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}`).join('\r\n')),
  );

const now = Date.now();
const window = (device: string) => ({
  device,
  metric: 'temperature',
  start: now - 60_000,
  end: now,
  count: 2,
  sum: 42,
  min: 20,
  max: 22,
  mean: 21,
  m2: 2,
  first: 20,
  last: 22,
  firstTs: now - 50_000,
  lastTs: now - 1_000,
});

/** Bodies: random bytes, batches for fuzz agents (valid or with a field broken), JSON nested deep, bodies over the limit. */
const body = (maxBatchBytes: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
    {
      weight: 3,
      arbitrary: fc
        .record({
          agent: token.map((t) => `fz-${t}`),
          seq: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(2 ** 60)),
          field: fc.constantFrom('none', 'v', 'windows', 'counters', 'sentAt', 'count'),
          value: fc.jsonValue({ maxDepth: 2 }),
        })
        .map(({ agent, seq, field, value }) => {
          const batch: Record<string, unknown> = {
            v: 1,
            agent,
            epoch: 1,
            seq,
            sentAt: now,
            windows: [window('fz-d1'), window('fz-d2')],
            counters: {},
          };
          if (field === 'count') (batch.windows as Array<Record<string, unknown>>)[0]!.count = value;
          else if (field !== 'none') batch[field] = value;
          return Buffer.from(JSON.stringify(batch));
        }),
    },
    fc.integer({ min: 1_000, max: 30_000 }).map((n) => Buffer.from(`${'['.repeat(n)}1${']'.repeat(n)}`)),
    fc.integer({ min: maxBatchBytes + 1, max: maxBatchBytes + 4_096 }).map((n) => Buffer.alloc(n, 0x20)),
  );

/** How the body is framed: by Content-Length (true or lying), chunked (well or badly), or not at all. */
const framing = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'length' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('chunked' as const),
      sizes: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 5 }),
      lie: fc.constantFrom('none', 'size', 'hex', 'no-end', 'trailer'),
    }),
  },
  fc.record({
    kind: fc.constant('lying-length' as const),
    delta: fc.oneof(fc.integer({ min: -50, max: -1 }), fc.integer({ min: 1, max: 50 })),
  }),
  fc.constantFrom(
    { kind: 'bad-length' as const, value: '-1' },
    { kind: 'bad-length' as const, value: 'abc' },
    { kind: 'bad-length' as const, value: '99999999999999999999' },
    { kind: 'bad-length' as const, value: '1, 2' },
    { kind: 'both' as const },
    { kind: 'none' as const },
  ),
);

function encodeFraming(
  b: Buffer,
  f:
    | { kind: 'length' }
    | { kind: 'chunked'; sizes: number[]; lie: string }
    | { kind: 'lying-length'; delta: number }
    | { kind: 'bad-length'; value: string }
    | { kind: 'both' }
    | { kind: 'none' },
): { headers: string[]; body: Buffer } {
  switch (f.kind) {
    case 'length':
      return { headers: [`content-length: ${b.length}`], body: b };
    case 'lying-length':
      return { headers: [`content-length: ${Math.max(0, b.length + f.delta)}`], body: b };
    case 'bad-length':
      return { headers: [`content-length: ${f.value}`], body: b };
    case 'both':
      return { headers: [`content-length: ${b.length}`, 'transfer-encoding: chunked'], body: b };
    case 'none':
      return { headers: [], body: b };
    case 'chunked': {
      const parts: Buffer[] = [];
      let at = 0;
      for (const size of [...f.sizes, b.length]) {
        const piece = b.subarray(at, at + size);
        at += piece.length;
        if (piece.length === 0) break;
        const declared = f.lie === 'size' ? piece.length + 3 : piece.length;
        parts.push(Buffer.from(`${f.lie === 'hex' ? 'zz' : declared.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      if (f.lie !== 'no-end') parts.push(Buffer.from(f.lie === 'trailer' ? '0\r\nx-trailer: 1\r\n\r\n' : '0\r\n\r\n'));
      return { headers: ['transfer-encoding: chunked'], body: Buffer.concat(parts) };
    }
  }
}

/** Three in four cases are uploads (`POST /api/v1/batches HTTP/1.1`) with the rest fuzzed; the others fuzz the request line too. */
export function httpFuzzCase(reserved: string, maxBatchBytes: number): fc.Arbitrary<HttpFuzzCase> {
  const upload = {
    method: fc.constant('POST'),
    target: fc.constant('/api/v1/batches'),
    version: fc.constant('HTTP/1.1'),
  };
  return fc.oneof(
    { weight: 3, arbitrary: request(reserved, maxBatchBytes, upload) },
    request(reserved, maxBatchBytes, { method, target, version }),
  );
}

function request(
  reserved: string,
  maxBatchBytes: number,
  line: { method: fc.Arbitrary<string>; target: fc.Arbitrary<string>; version: fc.Arbitrary<string> },
): fc.Arbitrary<HttpFuzzCase> {
  return fc
    .record({
      ...line,
      headers: fc.array(header(reserved), { maxLength: 6 }),
      body: body(maxBatchBytes),
      framing,
      bareLf: fc.boolean(),
      splits: fc.array(fc.integer({ min: 1, max: 2_000 }), { maxLength: 4 }),
    })
    .map((r) => {
      const eol = r.bareLf ? '\n' : '\r\n';
      const framed = encodeFraming(r.body, r.framing);
      const head = [`${r.method} ${r.target} ${r.version}`, 'host: 127.0.0.1', ...r.headers, ...framed.headers].join(
        eol,
      );
      return { bytes: Buffer.concat([Buffer.from(`${head}${eol}${eol}`), framed.body]), splits: r.splits };
    });
}
