import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthError,
  NotFoundError,
  PartialWriteError,
  PermanentError,
  RetryableError,
  TooLargeError,
} from './errors.js';
import { retryAfterMs } from '@tributary/runtime';
import { classifyWrite } from './response.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const v1Conflict =
  '{"error":"partial write: field type conflict: input field \\"count\\" on measurement \\"m\\" is type float, already exists as type integer dropped=2"}';

// Real answers: InfluxDB 1.6 (checked against the real influxd in test/src/influx), 2.7 OSS
// (422 on a type conflict), 3.x/Cloud (400 "invalid"), and what a proxy in front may add.
const cases: Array<{
  name: string;
  status: number;
  body?: string;
  headers?: Record<string, string>;
  want: unknown;
  code?: string;
  retryAfter?: number | undefined;
  dropped?: number | undefined;
}> = [
  { name: '204: written', status: 204, want: undefined },
  {
    name: '1.x 400 type conflict: partial write with the dropped count',
    status: 400,
    body: v1Conflict,
    want: PartialWriteError,
    code: 'INFLUX_PARTIAL_WRITE',
    dropped: 2,
  },
  {
    name: '1.x 400 unparsable line: partial write, dropped=0',
    status: 400,
    body: '{"error":"partial write: unable to parse \'m f=\': missing field value dropped=0"}',
    want: PartialWriteError,
    dropped: 0,
  },
  {
    name: '1.x 400 beyond retention',
    status: 400,
    body: '{"error":"partial write: points beyond retention policy dropped=1"}',
    want: PartialWriteError,
    dropped: 1,
  },
  {
    name: '2.7 422 type conflict',
    status: 422,
    body: '{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type string, already exists as type float dropped=11"}',
    want: PartialWriteError,
    dropped: 11,
  },
  {
    name: '3.x 400 invalid',
    status: 400,
    body: '{"code":"invalid","message":"partial write: 1 line(s) rejected"}',
    want: PartialWriteError,
    dropped: undefined,
  },
  {
    name: '2.x 400 malformed line: whole request refused',
    status: 400,
    body: '{"code":"invalid","message":"unable to parse \'x\': missing fields"}',
    want: PermanentError,
    code: 'INFLUX_REJECTED',
  },
  {
    name: '401 unauthorized',
    status: 401,
    body: '{"code":"unauthorized","message":"unauthorized access"}',
    want: AuthError,
    code: 'INFLUX_UNAUTHORIZED',
  },
  {
    name: '403 forbidden',
    status: 403,
    body: '{"error":"user is not authorized to write to database t"}',
    want: AuthError,
  },
  {
    name: '1.x 404 database missing',
    status: 404,
    body: '{"error":"database not found: \\"nope\\""}',
    want: NotFoundError,
    code: 'INFLUX_NOT_FOUND',
  },
  {
    name: '413 too large',
    status: 413,
    body: '{"code":"request too large","message":"unable to read data: points batch is too large"}',
    want: TooLargeError,
    code: 'INFLUX_TOO_LARGE',
  },
  {
    name: '429 with Retry-After seconds',
    status: 429,
    headers: { 'retry-after': '7' },
    want: RetryableError,
    code: 'INFLUX_RETRYABLE',
    retryAfter: 7000,
  },
  {
    name: '503 with Retry-After as an HTTP date',
    status: 503,
    headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' },
    want: RetryableError,
    retryAfter: 3000,
  },
  {
    name: '500 (1.x retention policy not found) retries',
    status: 500,
    body: '{"error":"retention policy not found: nope"}',
    want: RetryableError,
    retryAfter: undefined,
  },
  { name: '502 from a proxy, HTML body', status: 502, body: '<html>Bad Gateway</html>', want: RetryableError },
  { name: '408 request timeout retries', status: 408, want: RetryableError },
  { name: 'any other 4xx: refused', status: 405, body: 'method not allowed', want: PermanentError },
];

for (const c of cases) {
  test(`answer — ${c.name}`, () => {
    const err = classifyWrite({ status: c.status, headers: c.headers ?? {}, body: c.body ?? '' }, NOW);
    if (c.want === undefined) return assert.equal(err, undefined);
    assert.ok(
      err instanceof (c.want as new (...args: never[]) => Error),
      `${err?.constructor.name} is a ${(c.want as { name: string }).name}`,
    );
    if (c.code !== undefined) assert.equal(err.code, c.code);
    assert.equal(err.status, c.status);
    assert.match(err.message, new RegExp(`^HTTP ${c.status}: `));
    if ('retryAfter' in c) assert.equal((err as RetryableError).retryAfterMs, c.retryAfter);
    if ('dropped' in c) assert.equal((err as PartialWriteError).dropped, c.dropped);
  });
}

test('the reason is the server’s words: `error` (1.x), `code: message` (2.x), or the text', () => {
  assert.match(
    classifyWrite({ status: 400, headers: {}, body: v1Conflict })!.message,
    /^HTTP 400: partial write: field type conflict: input field "count"/,
  );
  assert.equal(
    classifyWrite({ status: 401, headers: {}, body: '{"code":"unauthorized","message":"unauthorized access"}' })!
      .message,
    'HTTP 401: unauthorized: unauthorized access',
  );
  assert.equal(classifyWrite({ status: 503, headers: {}, body: '' })!.message, 'HTTP 503: (no body)');
});

const retryAfters: Array<[string | undefined, number | undefined]> = [
  [undefined, undefined],
  ['', undefined],
  ['0', 0],
  ['1.5', 1500],
  ['soon', undefined],
  ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
  ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ['86400', 600_000],
];
for (const [value, want] of retryAfters) {
  test(`Retry-After ${JSON.stringify(value)} → ${want} ms`, () => assert.equal(retryAfterMs(value, NOW), want));
}
