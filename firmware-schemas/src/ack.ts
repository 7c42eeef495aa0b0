import { z } from 'zod';
import { AgentId, Seq } from './ids.js';
import { decodeJson } from './json.js';
import { parseWith, type Result } from './result.js';

/**
 * The cloud's answer to one batch, on `tributary/v1/agents/{agent}/acks`.
 * - `ok`: the batch's points are durably written; the agent may delete it.
 * - `duplicate`: this (agent, seq) was already written; the agent may delete it.
 * - `rejected`: the batch can never be written (it failed validation); the agent deletes it and
 *   counts it, because sending it again cannot succeed. `reason` says why.
 */
export const AckSchema = z.object({
  v: z.literal(1),
  agent: AgentId,
  /** The batch's epoch: an agent ignores acks of another epoch (of its state before a wipe). */
  epoch: z.number().int().min(0).optional(),
  seq: Seq,
  status: z.enum(['ok', 'duplicate', 'rejected']),
  reason: z.string().max(500).optional(),
});

export type Ack = z.output<typeof AckSchema>;

export function decodeAck(payload: string | Uint8Array): Result<Ack> {
  const json = decodeJson(payload, 4096, 'ack');
  return json.ok ? parseWith(AckSchema, json.value) : json;
}
