/**
 * InfluxDB line protocol: the one encoder. Every measurement name, tag key, tag value, field key
 * and string field that reaches InfluxDB is escaped here and nowhere else.
 *
 *   <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] <timestamp>
 *
 * Escaping follows the line protocol reference ("Special characters"): measurement — comma and
 * space; tag keys, tag values, field keys — comma, equals sign and space; string field values —
 * double quote and backslash. Beyond the reference, as Telegraf's serializer does
 * (plugins/serializers/influx/escape.go), tab, newline, carriage return and form feed are written
 * as the two characters `\t`, `\n`, `\r`, `\f`, because a raw newline ends the point (reference:
 * "Line protocol does not support the newline character in tag or field values").
 *
 * Backslashes in names, keys and tag values are left as they are: InfluxDB 1.x and 2.x (Go
 * `models` parser) treat a byte as escaped when the byte before it is a backslash, so a literal
 * backslash before an escaped separator still decodes to itself. A trailing backslash would escape
 * the separator after it, so it is trimmed (as Telegraf does). Device, agent and site ids cannot
 * hold backslashes at all (firmware-schemas `ids.ts`), so for Tributary's own points this is moot.
 */

const NAME_SPECIAL = /[, \t\n\r\f]/;
const NAME_SPECIAL_ALL = /[, \t\n\r\f]/g;
const KEY_SPECIAL = /[,= \t\n\r\f]/;
const KEY_SPECIAL_ALL = /[,= \t\n\r\f]/g;
const STRING_SPECIAL = /["\\\t\n\r\f]/;
const STRING_SPECIAL_ALL = /["\\\t\n\r\f]/g;
const TRAILING_BACKSLASHES = /\\+$/;

const ESCAPES: Readonly<Record<string, string>> = {
  ',': '\\,',
  '=': '\\=',
  ' ': '\\ ',
  '"': '\\"',
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\f': '\\f',
};
const escapeChar = (c: string): string => ESCAPES[c]!;

function trimTrailingBackslashes(s: string): string {
  return s.endsWith('\\') ? s.replace(TRAILING_BACKSLASHES, '') : s;
}

/**
 * A measurement name: comma and space escaped. A leading `#` would make the line a comment
 * (reference, "Comments"); it gets a backslash before it, which InfluxDB keeps as part of the name.
 */
export function escapeMeasurement(name: string): string {
  let out = NAME_SPECIAL.test(name) ? name.replace(NAME_SPECIAL_ALL, escapeChar) : name;
  out = trimTrailingBackslashes(out);
  return out.startsWith('#') ? `\\${out}` : out;
}

/** A tag key, tag value or field key: comma, equals sign and space escaped. */
export function escapeKey(key: string): string {
  return trimTrailingBackslashes(KEY_SPECIAL.test(key) ? key.replace(KEY_SPECIAL_ALL, escapeChar) : key);
}

/** A string field value, quoted: double quote and backslash escaped. */
export function quoteString(value: string): string {
  return `"${STRING_SPECIAL.test(value) ? value.replace(STRING_SPECIAL_ALL, escapeChar) : value}"`;
}

const MAX_REMEMBERED_KEYS = 1024;

/** Thrown for a point line protocol cannot carry (a programming error, not bad input). */
export class LineProtocolError extends Error {
  readonly code = 'LINE_PROTOCOL';
}

/**
 * Builds points one at a time: `start(measurement)`, tags in ascending key order (the order
 * InfluxDB sorts them in, reference "Performance tips"), fields, then `end(time)` returns the line.
 * Timestamps are milliseconds (writes use `precision=ms`). Reusable: `start` resets it.
 */
export class LineBuilder {
  private readonly keys = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private head = '';
  private body = '';
  private lastTagKey = '';

  start(measurement: string): this {
    this.head = this.keyOf(measurement, escapeMeasurement, this.names);
    this.body = '';
    this.lastTagKey = '';
    return this;
  }

  /** Adds a tag; an empty or missing value leaves it out (reference: "Tag values cannot be empty"). */
  tag(key: string, value: string | undefined): this {
    if (key <= this.lastTagKey)
      throw new LineProtocolError(`tag keys must be added in ascending order: ${key} after ${this.lastTagKey}`);
    this.lastTagKey = key;
    if (value === undefined) return this;
    const v = escapeKey(value);
    if (v !== '') this.head += `,${this.keyOf(key)}=${v}`;
    return this;
  }

  /** A float field; NaN and ±Infinity have no line-protocol form and are left out. */
  float(key: string, value: number): this {
    if (Number.isFinite(value)) this.field(key, String(value));
    return this;
  }

  /** An integer field (`i` suffix); a fractional value is truncated, a non-finite one left out. */
  int(key: string, value: number): this {
    if (Number.isFinite(value)) this.field(key, `${Math.trunc(value)}i`);
    return this;
  }

  string(key: string, value: string): this {
    this.field(key, quoteString(value));
    return this;
  }

  bool(key: string, value: boolean): this {
    this.field(key, value ? 'true' : 'false');
    return this;
  }

  /** The finished line (no newline), or undefined when the point has no field left to write. */
  end(timeMs: number): string | undefined {
    if (this.body === '') return undefined;
    return `${this.head} ${this.body} ${Math.trunc(timeMs)}`;
  }

  private field(key: string, encoded: string): void {
    this.body += this.body === '' ? `${this.keyOf(key)}=${encoded}` : `,${this.keyOf(key)}=${encoded}`;
  }

  /** Measurements, tag keys and field keys repeat on every point: escaped once and remembered (a bounded memo). */
  private keyOf(key: string, escape: (s: string) => string = escapeKey, memo: Map<string, string> = this.keys): string {
    let k = memo.get(key);
    if (k === undefined) {
      k = escape(key);
      if (k === '') throw new LineProtocolError('a measurement name, tag key or field key must not be empty');
      if (memo.size < MAX_REMEMBERED_KEYS) memo.set(key, k);
    }
    return k;
  }
}
