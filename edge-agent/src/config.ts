import { readFileSync } from 'node:fs';
import {
  AGENT_ENV_PREFIX,
  AgentConfigSchema,
  fail,
  parseConfigText,
  type AgentConfig,
  type Result,
} from '@tributary/firmware-schemas';

/** Reads a YAML or JSON config file, applies `TRIBUTARY_AGENT_*` overrides and validates it. */
export function loadAgentConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Result<AgentConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail('schema', `cannot read config ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(AgentConfigSchema, text, path, env, AGENT_ENV_PREFIX);
}
