/**
 * Which keys of a raw config its schema does not know (zod drops them silently), and the schema
 * walks that finding them needs. Apart from parse.ts, importing zod alone: the processor's
 * detection worker threads check detector settings with it and load neither YAML nor the wire
 * contracts (about 10 MB of heap and code a thread).
 */
import { z } from 'zod';

/** Keys an object schema accepts, looking through defaults, optionals, pipes and unions. */
export function keysOf(schema: z.ZodType | undefined): Map<string, z.ZodType> {
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
export function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
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

/** The value schema of a record (through defaults, optionals and pipes), if `schema` is one. */
export function recordValueOf(schema: z.ZodType | undefined): z.ZodType | undefined {
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
