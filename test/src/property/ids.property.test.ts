import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeKey, escapeMeasurement, LineBuilder } from '@tributary/cloud-processor';
import {
  AgentId,
  decodeBatchTolerant,
  decodeSerialLine,
  decodeTelemetry,
  DeviceId,
  encodeBatch,
  MetricName,
  Site,
  xorChecksum,
} from '@tributary/firmware-schemas';
import fc from 'fast-check';
import { influxQuery, startInfluxd } from '../harness/influxd.js';

/**
 * Every id the agent accepts reaches InfluxDB as its own tag value: two ids that differ anywhere
 * never become one. InfluxDB reads line protocol as UTF-8 and undoes the backslash before `,`,
 * `=` and space in a tag value (before `,` and space in a measurement); that is all it does to
 * them (line protocol reference, "Special characters"; Go `models` parser). So an id round-trips
 * when its escaped form, taken to UTF-8 bytes and back and unescaped that way, is the id again; a
 * lone UTF-16 surrogate has no UTF-8 form and would come back as U+FFFD (`sur\ud800` and
 * `sur\udbff` were one series), so ids must be well-formed Unicode.
 */
const throughUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const unescapeTag = (s: string): string => s.replace(/\\([,= ])/g, '$1');
const unescapeMeasurement = (s: string): string => s.replace(/\\([, ])/g, '$1');
const tagRoundTrip = (id: string): string => unescapeTag(throughUtf8(escapeKey(id)));

/** One character of an id: any code point, any UTF-16 code unit (so lone surrogates), or one the encoders treat specially. */
const char = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ',',
      '=',
      ' ',
      '"',
      "'",
      '\\',
      '/',
      '+',
      '#',
      '*',
      '$',
      '\n',
      '\r',
      '\t',
      '\u0000',
      '\u007f',
      '\u0085',
      '\u00a0',
      '\u2028',
      '\ufeff',
      '\ufffd',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\u{1f600}',
      'e\u0301',
      'é',
    ),
  },
);
const anyId = fc.string({ unit: char, maxLength: 70 });

const accepts = (schema: { safeParse(x: unknown): { success: boolean } }, s: string): boolean =>
  schema.safeParse(s).success;

const window = (device: string) => ({
  device,
  metric: 'temperature',
  start: 1_700_000_000_000,
  end: 1_700_000_060_000,
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
  mean: 1,
  m2: 0,
  first: 1,
  last: 1,
  firstTs: 1_700_000_000_000,
  lastTs: 1_700_000_000_000,
});

test('every decoder accepts exactly the device ids the schema does, and an accepted id round-trips through line protocol and UTF-8', () => {
  let accepted = 0;
  let lone = 0;
  fc.assert(
    fc.property(anyId, (id) => {
      const ok = accepts(DeviceId, id);
      if (/\p{Cs}/u.test(id)) {
        lone++;
        assert.equal(ok, false, 'an id with a lone surrogate is refused');
      }
      // MQTT telemetry: the byte scanner (a Buffer) and the general path (a string); JSON.stringify
      // writes a lone surrogate as \udXXX, so the payload is valid UTF-8 and JSON.parse gives `id` back.
      const text = JSON.stringify({ device: id, values: { x: 1 } });
      for (const payload of [Buffer.from(text, 'utf8'), text]) {
        const r = decodeTelemetry(payload, 1 << 16);
        assert.equal(r.ok, ok, `telemetry ${typeof payload}: ${text}`);
        if (r.ok) assert.equal(r.value.device, id);
        else if (!ok) assert.equal(r.error.code, 'bad_id', 'refused as a bad id, counted as such');
      }
      // The serial line (where the id holds none of the line's own separators).
      if (!/[,*$\r\n]/.test(id) && id !== '') {
        const body = `TRB,${id},,,x=1`;
        const r = decodeSerialLine(
          `$${body}*${xorChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`,
          1 << 16,
        );
        assert.equal(r.ok, ok, `serial: ${JSON.stringify(id)}`);
        if (r.ok) assert.equal(r.value.device, id);
      }
      // The cloud trusts no agent: a window of an id the agent would refuse is skipped with the reason.
      const b = decodeBatchTolerant(
        encodeBatch({ v: 1, agent: 'gw', seq: 1, sentAt: 1_700_000_061_000, windows: [window(id)], counters: {} }),
      );
      assert.ok(b.ok);
      assert.equal(b.value.batch.windows.length, ok ? 1 : 0, `batch window: ${JSON.stringify(id)}`);
      if (!ok) return;
      accepted++;
      assert.equal(throughUtf8(id), id, 'well-formed: survives UTF-8');
      assert.equal(tagRoundTrip(id), id, `tag value ${JSON.stringify(escapeKey(id))} reads back as the id`);
    }),
    { numRuns: 20_000 },
  );
  // Not vacuous: both sides of the line were visited often.
  assert.ok(accepted > 2_000, `${accepted} accepted`);
  assert.ok(lone > 2_000, `${lone} with a lone surrogate`);
});

test('two distinct accepted device ids never encode to the same tag value bytes, even when they differ in one code unit', () => {
  let pairs = 0;
  fc.assert(
    fc.property(anyId, char, char, fc.nat(), (base, x, y, at) => {
      const i = at % (base.length + 1);
      const a = base.slice(0, i) + x + base.slice(i);
      const b = base.slice(0, i) + y + base.slice(i);
      if (a === b || !accepts(DeviceId, a) || !accepts(DeviceId, b)) return;
      pairs++;
      assert.notDeepEqual(
        Buffer.from(escapeKey(a), 'utf8'),
        Buffer.from(escapeKey(b), 'utf8'),
        `${JSON.stringify(a)} and ${JSON.stringify(b)}`,
      );
    }),
    { numRuns: 20_000 },
  );
  assert.ok(pairs > 2_000, `${pairs} pairs compared`);
  // The case: ids differing only in a lone surrogate are refused, not merged.
  assert.equal(accepts(DeviceId, 'sur\ud800'), false);
  assert.equal(accepts(DeviceId, 'sur\udbff'), false);
  assert.equal(
    throughUtf8(escapeKey('sur\ud800')),
    throughUtf8(escapeKey('sur\udbff')),
    'what they would have become: one tag value',
  );
});

test('accepted agent ids, sites and metric names round-trip too', () => {
  fc.assert(
    fc.property(anyId, (s) => {
      if (accepts(AgentId, s)) assert.equal(tagRoundTrip(s), s);
      if (accepts(Site, s)) assert.equal(tagRoundTrip(s), s, `site ${JSON.stringify(s)}`);
      if (/\p{Cs}/u.test(s)) assert.equal(accepts(Site, s), false, 'a site with a lone surrogate is refused');
      if (accepts(MetricName, s)) assert.equal(unescapeMeasurement(throughUtf8(escapeMeasurement(s))), s);
    }),
    { numRuns: 20_000 },
  );
  const batch = decodeBatchTolerant(
    encodeBatch({
      v: 1,
      agent: 'gw',
      site: 'plant\udc00',
      seq: 1,
      sentAt: 1_700_000_061_000,
      windows: [],
      counters: {},
    }),
  );
  assert.equal(
    batch.ok,
    false,
    'a batch whose site has a lone surrogate is refused whole (its every point would carry it)',
  );
  if (!batch.ok) assert.match(batch.error.message, /site: site contains a lone UTF-16 surrogate U\+DC00/);
});

test('a real influxd keeps every accepted device id as its own tag value, exactly', { timeout: 60_000 }, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  await fetch(`${influxd.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE ids' }) });
  const ids = [
    ...new Set(
      fc.sample(
        anyId.filter((id) => accepts(DeviceId, id)),
        { numRuns: 400, seed: 17 },
      ),
    ),
  ];
  ids.push('sur\u{10000}', 'sur\u{10FFFF}', 'dev 1,a=b', 'a=b c,d', '\u{1f600}\u{1f600}');
  const b = new LineBuilder();
  const body = ids.map((id) => b.start('m').tag('device', id).int('count', 1).end(1_700_000_000_000)!).join('\n');
  const res = await fetch(`${influxd.url}/write?db=ids&precision=ms`, { method: 'POST', body });
  assert.equal(res.status, 204, await res.text());
  const stored =
    (await influxQuery(influxd.url, 'ids', 'SHOW TAG VALUES FROM "m" WITH KEY = "device"'))[0]?.values.map(
      (row) => row[1] as string,
    ) ?? [];
  assert.deepEqual(
    [...stored].sort(),
    [...ids].sort(),
    `${ids.length} ids written, ${stored.length} tag values stored`,
  );
});
