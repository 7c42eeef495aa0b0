import fc from 'fast-check';
import { remainingLength } from './mqtt-raw.js';

/**
 * Arbitrary MQTT byte streams for fuzzing a broker over a raw socket (MQTT 3.1.1 and 5, section 2):
 * well-formed packets with hostile fields, malformed fixed headers and remaining lengths, MQTT 5
 * properties of random bytes, topic names with wildcards, NULs and invalid UTF-8, packets of every
 * type in the wrong state, split at random points. Topics never name `reserved` (the valid
 * traffic's), so what the fuzz publishes cannot be taken for it.
 */

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const lengthPrefixed = (b: Uint8Array): number[] => [...u16(b.length), ...b];
const utf8 = (s: string): Uint8Array => Buffer.from(s);

/** A packet with a fixed header and the body's true remaining length. */
const packet = (type: number, flags: number, body: ArrayLike<number>): number[] => [
  (type << 4) | (flags & 0x0f),
  ...remainingLength(body.length),
  ...Array.from(body),
];

/** Strings as clients send them: plain, with MQTT wildcards and separators, NUL, or bytes that are not UTF-8. */
const mqttString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map(utf8) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '#',
        '+',
        'a/#/b',
        '/',
        '//',
        'sensors/+/telemetry',
        '$SYS/x',
        'a\u0000b',
        '',
        'x'.repeat(300),
        'tributary/v1/agents/+/batches',
        'tributary/v1/alerts/#',
      )
      .map(utf8),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Uint8Array.from([0xc0, 0x80]),
      Uint8Array.from([0xed, 0xa0, 0x80]),
      Uint8Array.from([0xff, 0xfe]),
      Uint8Array.from([0xef, 0xbf, 0xbf]),
    ),
  },
);

/** MQTT 5 properties: a variable byte length, then bytes (valid identifiers or not). */
const properties = fc.oneof(
  fc.constant([0]),
  fc.uint8Array({ maxLength: 30 }).map((b) => [...remainingLength(b.length), ...b]),
  // A length that lies about what follows.
  fc
    .tuple(fc.integer({ min: 0, max: 1 << 21 }), fc.uint8Array({ maxLength: 8 }))
    .map(([n, b]) => [...remainingLength(n), ...b]),
);

const connect = fc
  .record({
    name: fc.oneof(fc.constantFrom('MQTT', 'MQIsdp', 'MQTX', ''), fc.string({ maxLength: 8 })),
    level: fc.oneof(fc.constantFrom(3, 4, 5), fc.integer({ min: 0, max: 255 })),
    flags: fc.integer({ min: 0, max: 255 }),
    keepalive: fc.integer({ min: 0, max: 0xffff }),
    clientId: mqttString,
    willTopic: mqttString,
    willPayload: fc.uint8Array({ maxLength: 64 }),
    username: mqttString,
    password: fc.uint8Array({ maxLength: 32 }),
    props: properties,
  })
  .map((c) => {
    const v5 = c.level === 5 ? c.props : [];
    const body = [
      ...lengthPrefixed(utf8(c.name)),
      c.level,
      c.flags,
      ...u16(c.keepalive),
      ...v5,
      ...lengthPrefixed(c.clientId),
    ];
    if (c.flags & 0x04)
      body.push(...(c.level === 5 ? c.props : []), ...lengthPrefixed(c.willTopic), ...lengthPrefixed(c.willPayload));
    if (c.flags & 0x80) body.push(...lengthPrefixed(c.username));
    if (c.flags & 0x40) body.push(...lengthPrefixed(c.password));
    return packet(1, 0, body);
  });

/** A CONNECT a broker accepts (3.1.1, clean session), so the packets after it meet a logged-in client. */
export const validConnect = (clientId: string): number[] =>
  packet(1, 0, [...lengthPrefixed(utf8('MQTT')), 4, 0x02, 0, 30, ...lengthPrefixed(utf8(clientId))]);

const publish = (reserved: string) =>
  fc
    .record({
      qos: fc.integer({ min: 0, max: 3 }),
      dup: fc.boolean(),
      retain: fc.boolean(),
      topic: mqttString,
      id: fc.integer({ min: 0, max: 0xffff }),
      v5: fc.option(properties),
      payload: fc.uint8Array({ maxLength: 200 }),
    })
    .filter((p) => !Buffer.from(p.topic).toString('latin1').includes(reserved))
    .map((p) =>
      packet(3, (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0), [
        ...lengthPrefixed(p.topic),
        ...(p.qos > 0 ? u16(p.id) : []),
        ...(p.v5 ?? []),
        ...p.payload,
      ]),
    );

const subscribe = fc
  .record({
    flags: fc.oneof(fc.constant(2), fc.integer({ min: 0, max: 15 })),
    id: fc.integer({ min: 0, max: 0xffff }),
    filters: fc.array(fc.tuple(mqttString, fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  })
  .map((s) => packet(8, s.flags, [...u16(s.id), ...s.filters.flatMap(([f, o]) => [...lengthPrefixed(f), o])]));

const unsubscribe = fc
  .record({
    flags: fc.oneof(fc.constant(2), fc.integer({ min: 0, max: 15 })),
    id: fc.integer({ min: 0, max: 0xffff }),
    filters: fc.array(mqttString, { maxLength: 4 }),
  })
  .map((s) => packet(10, s.flags, [...u16(s.id), ...s.filters.flatMap((f) => lengthPrefixed(f))]));

/** PUBACK, PUBREC, PUBREL, PUBCOMP for ids never sent; PINGREQ; DISCONNECT; and the server's own packets (CONNACK, SUBACK, …) sent by a client. */
const control = fc
  .tuple(
    fc.constantFrom(2, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15),
    fc.integer({ min: 0, max: 15 }),
    fc.uint8Array({ maxLength: 6 }),
  )
  .map(([type, flags, body]) => packet(type, flags, body));

/** Any type (0 and 15 are reserved in 3.1.1), any flags, a body of random bytes with its true length. */
const randomPacket = fc
  .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 120 }))
  .map(([type, flags, body]) => packet(type, flags, body));

/** Fixed headers that lie: non-minimal, 5-byte, huge or truncated remaining lengths, and lengths that disagree with the body. */
const malformedHeader = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(
        [0xff, 0xff, 0xff, 0xff, 0x7f],
        [0x80, 0x80, 0x80, 0x80, 0x01],
        [0xff, 0xff, 0xff, 0x7f],
        [0x80, 0x00],
        [0x80, 0x80, 0x80, 0x00],
        [0x80],
      ),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([h, len, body]) => [h, ...len, ...body]),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 64 }))
    .map(([h, n, body]) => [h, ...remainingLength(n), ...body]),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Array.from(b)),
);

const anyPacket = (reserved: string) =>
  fc.oneof(
    { weight: 3, arbitrary: publish(reserved) },
    { weight: 2, arbitrary: subscribe },
    unsubscribe,
    control,
    randomPacket,
    malformedHeader,
    connect,
  );

/** What one fuzz connection sends, and where its bytes are split into writes. */
export interface FuzzSession {
  readonly kind: 'before login' | 'fuzzed CONNECT' | 'after login';
  readonly bytes: Buffer;
  readonly splits: number[];
}

/** One connection's bytes: garbage before any login, a fuzzed CONNECT and more, or a valid login and then hostile packets. */
export function fuzzSession(reserved: string): fc.Arbitrary<FuzzSession> {
  const session = (kind: FuzzSession['kind'], first: fc.Arbitrary<number[]>) =>
    fc
      .tuple(
        first,
        fc.array(anyPacket(reserved), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 4 }),
      )
      .map(([head, rest, splits]) => ({ kind, bytes: Buffer.from([...head, ...rest.flat()]), splits }));
  return fc.oneof(session('before login', anyPacket(reserved)), session('fuzzed CONNECT', connect), {
    weight: 2,
    arbitrary: session(
      'after login',
      fc
        .string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789') })
        .map((id) => validConnect(`fuzz-${id}`)),
    ),
  });
}

/** The session's bytes cut at its split points (offsets into the stream, in order). */
export function chunks(s: FuzzSession): Buffer[] {
  const cuts = [...new Set(s.splits.filter((c) => c < s.bytes.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(s.bytes.subarray(from, c));
    from = c;
  }
  out.push(s.bytes.subarray(from));
  return out;
}
