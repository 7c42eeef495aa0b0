import YAML from 'yaml';
import { z } from 'zod';
import { describeZodError, fail, ok, type Result } from '../result.js';

/** Keys an object schema accepts, looking through defaults, optionals, pipes and unions. */
function keysOf(schema: z.ZodType | undefined): Map<string, z.ZodType> {
  const keys = new Map<string, z.ZodType>();
  const visit = (wrapped: z.ZodType | undefined): void => {
    const s = unwrap(wrapped);
    if (s instanceof z.ZodObject) {
      for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) keys.set(k, v);
    } else if (s instanceof z.ZodUnion || s instanceof z.ZodDiscriminatedUnion) {
      for (const o of s.def.options as z.ZodType[]) visit(o);
    } else if (s instanceof z.ZodArray) {
      visit(s.def.element as z.ZodType);
    }
  };
  visit(schema);
  return keys;
}

/** The innermost schema under defaults, optionals and pipes. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  for (;;) {
    if (
      s instanceof z.ZodDefault ||
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodPrefault
    )
      s = s.def.innerType as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.def.in as z.ZodType;
    else return s;
  }
}

/**
 * An environment value for a key of `schema`: the raw text where the key takes a string (a
 * password of digits stays a string), JSON for numbers, booleans, arrays and objects, and for keys
 * of unknown type JSON when it parses, else the text.
 */
function parseEnvValue(text: string, schema: z.ZodType | undefined): unknown {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodString || inner instanceof z.ZodEnum || inner instanceof z.ZodLiteral) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Applies environment overrides to a raw config: `PREFIX` + path segments joined by `__`, matched
 * to the schema's keys without regard to case. `TRIBUTARY_AGENT_UPLINK__URL=mqtt://h:1883` sets
 * `uplink.url`; a numeric segment indexes an array (`SOURCES__0__URL`). Values are read as JSON
 * when they parse (numbers, booleans, arrays), as strings otherwise. Returns a new object.
 */
export function applyEnvOverrides(
  raw: unknown,
  schema: z.ZodType,
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
): unknown {
  const root: Record<string, unknown> =
    typeof raw === 'object' && raw !== null ? structuredClone(raw as Record<string, unknown>) : {};
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.startsWith(prefix) || name.length === prefix.length) continue;
    const segments = name.slice(prefix.length).split('__');
    let node: Record<string, unknown> | unknown[] = root;
    let nodeSchema: z.ZodType | undefined = schema;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const last = i === segments.length - 1;
      let key: string | number;
      let childSchema: z.ZodType | undefined;
      if (Array.isArray(node) && /^\d+$/.test(segment)) {
        key = Number(segment);
        childSchema = nodeSchema;
      } else {
        const known = keysOf(nodeSchema);
        const match = [...known.keys()].find((k) => k.toLowerCase() === segment.toLowerCase());
        // Keys of a record (per-metric settings) are the config's own: match those present.
        const present =
          match === undefined ? Object.keys(node).find((k) => k.toLowerCase() === segment.toLowerCase()) : undefined;
        key = match ?? present ?? segment;
        childSchema = match === undefined ? recordValueOf(nodeSchema) : known.get(match);
      }
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[key] = parseEnvValue(text, childSchema);
      } else {
        // Own keys only: a record key such as `constructor` must not find an Object method.
        const next: unknown = Object.hasOwn(container, key) ? container[key] : undefined;
        const nextIsArray = /^\d+$/.test(segments[i + 1]!);
        if (typeof next !== 'object' || next === null) container[key] = nextIsArray ? [] : {};
        node = container[key] as Record<string, unknown> | unknown[];
        nodeSchema = childSchema;
      }
    }
  }
  return root;
}

/** The value schema of a record (through defaults, optionals and pipes), if `schema` is one. */
function recordValueOf(schema: z.ZodType | undefined): z.ZodType | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodRecord ? (inner.def.valueType as z.ZodType) : undefined;
}

/** Whether a schema (through defaults, optionals and pipes) is a record: any key goes there. */
const isRecord = (schema: z.ZodType): boolean => unwrap(schema) instanceof z.ZodRecord;

/** The element schema of an array (through defaults, optionals and pipes), if `schema` is one. */
function elementOf(schema: z.ZodType): z.ZodType | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodArray ? (inner.def.element as z.ZodType) : undefined;
}

/**
 * The option of a discriminated union (through defaults, optionals and pipes) that `raw` selects
 * by its discriminator, so its keys are checked against that option alone: `users` on an external
 * broker, or a login on the gateway's own broker, would otherwise pass as keys of a sibling option
 * and then be dropped.
 */
function variantOf(
  schema: z.ZodType,
  raw: Record<string, unknown>,
): { schema: z.ZodType; discriminator: string; value: unknown } | undefined {
  const union = unwrap(schema);
  if (!(union instanceof z.ZodDiscriminatedUnion)) return undefined;
  const discriminator = union.def.discriminator as string;
  const value = raw[discriminator];
  for (const option of union.def.options as z.ZodType[]) {
    const tag = unwrap(
      option instanceof z.ZodObject ? (option.shape as Record<string, z.ZodType>)[discriminator] : undefined,
    );
    if (tag instanceof z.ZodLiteral && (tag.def.values as unknown[]).includes(value))
      return { schema: option, discriminator, value };
  }
  return undefined;
}

/**
 * Keys of a raw config that no schema object has (a typo, or a key from an older version), as
 * `path: unknown key …` sentences. zod would silently drop them; a user would silently lose them.
 */
export function unknownKeys(schema: z.ZodType, raw: unknown, path = ''): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  // Any name is a record's key, except `__proto__`: zod drops it from a record without a word.
  if (isRecord(schema))
    return Object.hasOwn(raw, '__proto__')
      ? [`${path === '' ? '' : `${path}.`}__proto__: not a valid name (it would be ignored)`]
      : [];
  if (Array.isArray(raw)) {
    const element = elementOf(schema);
    return element ? raw.flatMap((item, i) => unknownKeys(element, item, `${path}[${i}]`)) : [];
  }
  const variant = variantOf(schema, raw as Record<string, unknown>);
  const known = keysOf(variant?.schema ?? schema);
  if (known.size === 0) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const at = path === '' ? key : `${path}.${key}`;
    const child = known.get(key);
    const kind = variant === undefined ? '' : ` for ${variant.discriminator} ${JSON.stringify(variant.value)}`;
    if (child === undefined) out.push(`${at}: unknown key${kind} (expected one of ${[...known.keys()].join(', ')})`);
    else out.push(...unknownKeys(child, value, at));
  }
  return out;
}

/**
 * Validates a config (already read from YAML or JSON) after environment overrides. On failure the
 * message names every bad key and its value, e.g. `windows.lengthMs: Too small: expected number to be >=1 (got -5)`.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
  envPrefix = '',
): Result<z.output<S>> {
  const merged = envPrefix === '' ? raw : applyEnvOverrides(raw, schema, env, envPrefix);
  const parsed = schema.safeParse(merged, { reportInput: true });
  const unknown = unknownKeys(schema, merged);
  if (parsed.success && unknown.length === 0) return ok(parsed.data);
  const problems = [...(parsed.success ? [] : [describeZodError(parsed.error, 20)]), ...unknown];
  return fail('schema', problems.join('; '));
}

export const AGENT_ENV_PREFIX = 'TRIBUTARY_AGENT_';
export const PROCESSOR_ENV_PREFIX = 'TRIBUTARY_CLOUD_';

/**
 * Parses a config file's text (JSON when the name ends in `.json`, YAML otherwise), applies the
 * environment overrides and validates it. The caller reads the file; this does no I/O.
 */
export function parseConfigText<S extends z.ZodType>(
  schema: S,
  text: string,
  fileName: string,
  env: Readonly<Record<string, string | undefined>>,
  envPrefix: string,
): Result<z.output<S>> {
  let raw: unknown;
  try {
    raw = fileName.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    return fail(
      'schema',
      `${fileName} is not valid ${fileName.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  return parseConfig(schema, raw ?? {}, env, envPrefix);
}
