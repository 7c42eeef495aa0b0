import { z } from 'zod';
import { AckSchema } from './ack.js';
import { AlertEventSchema } from './alert.js';
import { BatchEnvelopeSchema } from './batch.js';
import { AgentConfigSchema } from './config/agent.js';
import { FleetConfigSchema } from './config/fleet.js';
import { ProcessorConfigSchema } from './config/processor.js';
import { TelemetrySchema } from './telemetry.js';

/** Every contract that has a JSON Schema for firmware authors and tooling, by file name. */
export const contracts: ReadonlyArray<{ name: string; title: string; schema: z.ZodType; io: 'input' | 'output' }> = [
  { name: 'telemetry', title: 'Device telemetry on sensors/{device}/telemetry', schema: TelemetrySchema, io: 'input' },
  {
    name: 'batch',
    title: 'Edge-to-cloud batch on tributary/v1/agents/{agent}/batches',
    schema: BatchEnvelopeSchema,
    io: 'input',
  },
  { name: 'ack', title: 'Cloud ack on tributary/v1/agents/{agent}/acks', schema: AckSchema, io: 'output' },
  {
    name: 'alert',
    title: 'Alert event on tributary/v1/alerts/{device}/{metric}',
    schema: AlertEventSchema,
    io: 'output',
  },
  { name: 'agent-config', title: 'Edge agent config file', schema: AgentConfigSchema, io: 'input' },
  { name: 'processor-config', title: 'Cloud processor config file', schema: ProcessorConfigSchema, io: 'input' },
  { name: 'fleet', title: 'Device simulator fleet file', schema: FleetConfigSchema, io: 'input' },
];

/**
 * JSON Schema (draft 2020-12) for one contract. Refinements that JSON Schema cannot express
 * (device id characters, end > start) are described in the zod schema and enforced by the decoders.
 */
export function jsonSchemaOf(contract: (typeof contracts)[number]): Record<string, unknown> {
  const schema = z.toJSONSchema(contract.schema, { io: contract.io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: `https://tributary.dev/schemas/${contract.name}.json`, title: contract.title };
}
