import { readFileSync } from 'node:fs';
import {
  fail,
  FleetConfigSchema,
  parseConfig,
  SIM_ENV_PREFIX,
  type FleetConfig,
  type Result,
} from '@tributary/firmware-schemas';
import YAML from 'yaml';
import type { FleetOptions } from './fleet.js';

/**
 * Reads a fleet file (YAML, or JSON when the name ends in `.json`), lays `overrides` (from flags)
 * over it, applies `TRIBUTARY_SIM_*` environment overrides and validates the result. Without a
 * file, the overrides alone (and the schema's defaults) make the fleet.
 */
export function loadFleetFile(
  path: string | undefined,
  overrides: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>> = {},
): Result<FleetConfig> {
  if (path === undefined) return parseConfig(FleetConfigSchema, overrides, env, SIM_ENV_PREFIX);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail('schema', `cannot read fleet file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    return fail(
      'schema',
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const base = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  return parseConfig(FleetConfigSchema, deepMerge(base, overrides), env, SIM_ENV_PREFIX);
}

/** Weight tables a flag replaces whole (a mix of `spike` alone means no other kind). */
const REPLACED_WHOLE = new Set(['mix', 'malformedMix']);

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects =
      !REPLACED_WHOLE.has(k) &&
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b);
    out[k] = bothObjects ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** The fleet a validated fleet file describes, played over [startMs, startMs + durationMs). */
export function fleetOptionsFromConfig(
  config: FleetConfig,
  startMs: number,
  durationMs: number,
  site?: string,
): FleetOptions {
  return {
    devices: config.devices,
    seed: config.seed,
    startMs,
    durationMs,
    models: config.models,
    sites: config.sites,
    behaviour: config.behaviour,
    anomalies: {
      ratePerDay: config.anomalies.ratePerSeriesPerDay,
      mix: config.anomalies.mix,
      warmupMs: config.anomalies.warmupMs,
      gapMs: config.anomalies.gapMs,
    },
    ...(site === undefined ? {} : { site }),
  };
}
