import YAML from 'yaml';
import { z } from 'zod';
import { keysOf, recordValueOf, unknownKeys, unwrap } from './unknown-keys.js';
import { describeZodError, fail, ok, type Result } from '../result.js';

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

export { unknownKeys } from './unknown-keys.js';

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
