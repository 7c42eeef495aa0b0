import { emptyReadings } from './readings.js';
import {
  DEVICE_ID_MAX_LENGTH,
  MAX_READING_MAGNITUDE,
  MAX_TIMESTAMP_MS,
  MAX_VALUES_PER_MESSAGE,
  METRIC_NAME_MAX_LENGTH,
  MIN_TIMESTAMP_MS,
  RESERVED_MEASUREMENTS,
} from './ids.js';

/**
 * The telemetry decoder's fast path: reads the message shape firmware sends
 * (`{"device":"th-0042","ts":…,"seq":…,"values":{"temperature":21.5,…}}`) straight from the payload
 * bytes, without building a string of the payload or a JSON tree, and answers only for messages
 * that are plainly valid. Anything else — an escape, a character outside printable ASCII, another
 * key, a repeated key, a value out of range, a number the exact shortcut cannot convert — returns
 * undefined, and the caller takes the general path (JSON.parse, then the schema), which decides
 * and words the error. So this file can make a message faster, never change its outcome: the test
 * suite checks that both paths give the same result on arbitrary input.
 *
 * The caller must have checked the payload's size already.
 */

/** The shape the fast path produces; the same as the schema's output for these messages. */
export interface ScannedTelemetry {
  device: string;
  ts?: number;
  seq?: number;
  values: Record<string, number>;
}

/** 10^0 … 10^22: every one is a double exactly, which the exact division below relies on. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** Digits whose value always fits a double exactly (10^15 < 2^53). */
const MAX_EXACT_DIGITS = 15;
/** Longest number read here (a double's shortest form is at most 24 characters). */
const MAX_NUMBER_CHARS = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Strings already made from these bytes. A fleet repeats the same device ids and metric names
 * millions of times; a hash of the bytes finds the string made last time, which is then compared
 * byte for byte, so a collision costs a new string and never a wrong one. Only names found valid
 * are held, so one found needs no second check. Bounded: cleared when full.
 */
class InternedNames {
  private readonly byHash = new Map<number, string>();
  constructor(private readonly max: number) {}

  /** The string made earlier from exactly these bytes, if it is still held. */
  find(bytes: Uint8Array, start: number, end: number, hash: number): string | undefined {
    const known = this.byHash.get(hash);
    return known !== undefined && sameAscii(known, bytes, start, end) ? known : undefined;
  }

  /** Holds a valid name made from bytes with this hash, for next time. */
  hold(name: string, hash: number): string {
    if (this.byHash.size >= this.max) this.byHash.clear();
    this.byHash.set(hash, name);
    return name;
  }
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

function sameAscii(s: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

const devices = new InternedNames(65_536);
const metrics = new InternedNames(1_024);
const reserved = new Set<string>(RESERVED_MEASUREMENTS);

/** Reads a payload; undefined whenever the general path must decide. Never throws. */
export function scanTelemetry(b: Uint8Array): ScannedTelemetry | undefined {
  return scanner.message(b);
}

/** Position in the payload and the last string and number read. One is reused: decoding is synchronous. */
class Scanner {
  private b: Uint8Array = new Uint8Array(0);
  private i = 0;
  /** Start, end (exclusive) and hash (FNV-1a, 30 bits so it stays a small integer) of the last string's bytes. */
  private strStart = 0;
  private strEnd = 0;
  private strHash = 0;
  private num = 0;

  message(b: Uint8Array): ScannedTelemetry | undefined {
    this.b = b;
    this.i = 0;
    // Keys are set in the order they are read, as JSON.parse does.
    const t: Partial<ScannedTelemetry> = {};
    if (!this.expect(0x7b /* { */)) return undefined;
    for (;;) {
      if (!this.string()) return undefined;
      const keyLength = this.strEnd - this.strStart;
      const k = this.b[this.strStart];
      if (!this.expect(0x3a /* : */)) return undefined;
      if (keyLength === 6 && k === 0x64 && this.keyIs('device')) {
        if (t.device !== undefined || !this.string()) return undefined;
        const device = this.deviceId();
        if (device === undefined) return undefined;
        t.device = device;
      } else if (keyLength === 2 && k === 0x74 && this.keyIs('ts')) {
        if (
          t.ts !== undefined ||
          !this.number() ||
          !Number.isInteger(this.num) ||
          this.num < MIN_TIMESTAMP_MS ||
          this.num > MAX_TIMESTAMP_MS
        )
          return undefined;
        t.ts = this.num;
      } else if (keyLength === 3 && k === 0x73 && this.keyIs('seq')) {
        // -0 is a valid seq; it is left to the general path so that this one needs no case for it.
        if (
          t.seq !== undefined ||
          !this.number() ||
          !Number.isSafeInteger(this.num) ||
          this.num < 0 ||
          Object.is(this.num, -0)
        )
          return undefined;
        t.seq = this.num;
      } else if (keyLength === 6 && k === 0x76 && this.keyIs('values')) {
        if (t.values !== undefined) return undefined;
        const values = this.values();
        if (values === undefined) return undefined;
        t.values = values;
      } else return undefined;
      const c = this.next();
      if (c === 0x7d /* } */) break;
      if (c !== 0x2c /* , */) return undefined;
    }
    this.skipSpace();
    if (this.i !== this.b.length || t.device === undefined || t.values === undefined) return undefined;
    return t as ScannedTelemetry;
  }

  private values(): Record<string, number> | undefined {
    if (!this.expect(0x7b /* { */)) return undefined;
    const out = emptyReadings();
    let n = 0;
    for (;;) {
      if (!this.string()) return undefined;
      const metric = this.metricName();
      if (metric === undefined || !this.expect(0x3a /* : */) || !this.number()) return undefined;
      if (!(this.num >= -MAX_READING_MAGNITUDE && this.num <= MAX_READING_MAGNITUDE)) return undefined;
      // A repeated name: JSON.parse keeps the last one; leave that to it.
      if (Object.hasOwn(out, metric)) return undefined;
      out[metric] = this.num;
      if (++n > MAX_VALUES_PER_MESSAGE) return undefined;
      const c = this.next();
      if (c === 0x7d /* } */) return out;
      if (c !== 0x2c /* , */) return undefined;
    }
  }

  /** The last string as a device id, if it is printable ASCII without `/ + # \`; else undefined. */
  private deviceId(): string | undefined {
    const { b, strStart, strEnd } = this;
    const known = devices.find(b, strStart, strEnd, this.strHash);
    if (known !== undefined) return known;
    const length = strEnd - strStart;
    if (length === 0 || length > DEVICE_ID_MAX_LENGTH) return undefined;
    for (let i = strStart; i < strEnd; i++) {
      const c = b[i]!;
      if (c < 0x20 || c > 0x7e || c === 0x2f /* / */ || c === 0x2b /* + */ || c === 0x23 /* # */) return undefined;
    }
    return devices.hold(ascii(b, strStart, strEnd), this.strHash);
  }

  /** The last string as a metric name (a letter, then up to 63 letters, digits or `_`, not reserved). */
  private metricName(): string | undefined {
    const { b, strStart, strEnd } = this;
    const known = metrics.find(b, strStart, strEnd, this.strHash);
    if (known !== undefined) return known;
    const length = strEnd - strStart;
    if (length === 0 || length > METRIC_NAME_MAX_LENGTH || !isLetter(b[strStart]!)) return undefined;
    for (let i = strStart + 1; i < strEnd; i++) {
      const c = b[i]!;
      if (!isLetter(c) && !(c >= 0x30 && c <= 0x39) && c !== 0x5f /* _ */) return undefined;
    }
    const name = ascii(b, strStart, strEnd);
    return reserved.has(name) ? undefined : metrics.hold(name, this.strHash);
  }

  private keyIs(key: string): boolean {
    return sameAscii(key, this.b, this.strStart, this.strEnd);
  }

  /** A string without escapes; its bytes are left in strStart/strEnd/strHash. */
  private string(): boolean {
    if (this.next() !== QUOTE) return false;
    const b = this.b;
    let i = this.i;
    let hash = 0x811c9dc5;
    const start = i;
    for (;;) {
      if (i >= b.length) return false;
      const c = b[i]!;
      if (c === QUOTE) break;
      // Escapes and control characters: JSON.parse decides.
      if (c === BACKSLASH || c < 0x20) return false;
      hash = Math.imul(hash ^ c, 0x01000193);
      i++;
    }
    this.strStart = start;
    this.strEnd = i;
    this.strHash = hash & 0x3fffffff;
    this.i = i + 1;
    return true;
  }

  /**
   * A JSON number into `num`. Up to 15 digits without an exponent are converted exactly here (an
   * integer below 2^53 divided by an exact power of ten is the correctly rounded value, which is
   * what JSON.parse gives); any other well-formed number goes through Number(), also correctly rounded.
   */
  private number(): boolean {
    this.skipSpace();
    const b = this.b;
    let i = this.i;
    const start = i;
    const negative = b[i] === 0x2d; /* - */
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let fraction = 0;
    let c = b[i];
    if (c === 0x30 /* 0 */) {
      i++;
      digits = 1;
    } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      while (i < b.length && (c = b[i]!) >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        i++;
      }
    } else return false;
    c = b[i];
    if (c === 0x2e /* . */) {
      i++;
      const before = i;
      while (i < b.length && (c = b[i]!) >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        i++;
      }
      fraction = i - before;
      if (fraction === 0) return false;
      digits += fraction;
      c = b[i];
    }
    let exponent = false;
    if (c === 0x65 || c === 0x45 /* e E */) {
      exponent = true;
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d /* + - */) i++;
      const before = i;
      while (i < b.length && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
      if (i === before) return false;
    }
    this.i = i;
    // No double needs more characters; a longer number is the general path's to judge.
    if (i - start > MAX_NUMBER_CHARS) return false;
    if (!exponent && digits <= MAX_EXACT_DIGITS) {
      const magnitude = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
      this.num = negative ? -magnitude : magnitude;
    } else this.num = Number(ascii(b, start, i));
    return true;
  }

  private expect(c: number): boolean {
    return this.next() === c;
  }

  /** The next byte that is not JSON whitespace, consumed; undefined at the end. */
  private next(): number | undefined {
    this.skipSpace();
    return this.i < this.b.length ? this.b[this.i++] : undefined;
  }

  private skipSpace(): void {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const scanner = new Scanner();
