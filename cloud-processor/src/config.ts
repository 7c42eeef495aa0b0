import { readFileSync } from 'node:fs';
import {
  fail,
  parseConfigText,
  PROCESSOR_ENV_PREFIX,
  ProcessorConfigSchema,
  type ProcessorConfig,
  type Result,
} from '@tributary/firmware-schemas';
import { DetectorConfigError, detectorPlans } from './detect/registry.js';

/**
 * Reads a YAML or JSON config file, applies `TRIBUTARY_CLOUD_*` overrides and validates it, the
 * detectors' settings included (each detector's own schema, which firmware-schemas does not know).
 */
export function loadProcessorConfig(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Result<ProcessorConfig> {
  let text = '{}';
  if (path !== undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return fail('schema', `cannot read config ${path}: ${(err as Error).message}`);
    }
  }
  const parsed = parseConfigText(ProcessorConfigSchema, text, path ?? 'defaults.json', env, PROCESSOR_ENV_PREFIX);
  if (!parsed.ok) return parsed;
  try {
    detectorPlans(parsed.value.detection);
  } catch (err) {
    if (err instanceof DetectorConfigError) return fail('schema', err.message);
    throw err;
  }
  return parsed;
}
