import { join } from 'node:path';
import type { SpoolConfig } from '@tributary/firmware-schemas';
import type { BatchQueue } from './batch-queue.js';
import { DiskSpool } from './disk-spool.js';
import { MemoryBatchQueue } from './memory-queue.js';
import { SeqStore } from './seq-store.js';

/** What a spool factory gets besides its own config. */
export interface SpoolContext {
  /** The agent's state directory: a spool keeps its files below it unless its config names a directory. */
  readonly stateDir: string;
  /** A write in the background (fsync, cursor) failed; `example` names the spool. The spool goes on. */
  readonly backgroundError: (example: string) => void;
}

/**
 * Every spool by its config `type` (the schemas are firmware-schemas' `SpoolConfig`): a new kind is
 * a file here implementing BatchQueue, a schema there, and an entry in this table, which the
 * compiler holds to the schema's types. Nothing is opened here: the agent opens the spool in start().
 */
const spools: {
  [T in SpoolConfig['type']]: (config: Extract<SpoolConfig, { type: T }>, ctx: SpoolContext) => BatchQueue;
} = {
  disk: (c, ctx) => {
    const dir = c.dir ?? join(ctx.stateDir, 'spool');
    return new DiskSpool({
      ...c,
      dir,
      onBackgroundError: (err) => ctx.backgroundError(`spool ${dir}: ${err.message}`),
    });
  },
  memory: (c, ctx) => new MemoryBatchQueue(c.maxBatches, c.onFull, new SeqStore(join(ctx.stateDir, 'seq.json'))),
};

export function createSpool(config: SpoolConfig, ctx: SpoolContext): BatchQueue {
  return (spools[config.type] as (c: SpoolConfig, x: SpoolContext) => BatchQueue)(config, ctx);
}
