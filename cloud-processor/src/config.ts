import { readFileSync } from 'node:fs';
import { fail, parseConfigText, PROCESSOR_ENV_PREFIX, ProcessorConfigSchema, type ProcessorConfig, type Result } from '@tributary/firmware-schemas';

/** Reads a YAML or JSON config file, applies `TRIBUTARY_CLOUD_*` overrides and validates it. */
export function loadProcessorConfig(path: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Result<ProcessorConfig> {
  let text = '{}';
  if (path !== undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return fail('schema', `cannot read config ${path}: ${(err as Error).message}`);
    }
  }
  return parseConfigText(ProcessorConfigSchema, text, path ?? 'defaults.json', env, PROCESSOR_ENV_PREFIX);
}
