import { join } from 'node:path';
import { DiskWalConfig, type AgentConfig, type WalConfig } from '@tributary/firmware-schemas';
import { WriteAheadLog } from './write-ahead-log.js';

/** What a write-ahead log factory gets besides its own config. */
export interface WalContext {
  /** The agent's state directory: the log keeps its files below it unless its config names a directory. */
  readonly stateDir: string;
  /** Readings accepted but not logged: at the bound (their count), or after a write failed (`reason`). */
  readonly unprotected: (readings: number, reason: string) => void;
}

/**
 * Every write-ahead log by its config `type` (firmware-schemas' `WalConfig`): `disk` logs the
 * readings of open windows (write-ahead-log.ts); `none` logs nothing. Nothing is opened here: the
 * agent opens the log in start().
 */
const logs: {
  [T in WalConfig['type']]: (config: Extract<WalConfig, { type: T }>, ctx: WalContext) => WriteAheadLog | undefined;
} = {
  disk: (c, ctx) => new WriteAheadLog({ ...c, dir: c.dir ?? join(ctx.stateDir, 'wal') }, ctx.unprotected),
  none: () => undefined,
};

/** The log `config.wal` asks for: when it is omitted, a disk log with the defaults if the spool is on disk, none with a memory spool. */
export function createWal(config: AgentConfig, ctx: WalContext): WriteAheadLog | undefined {
  const wal: WalConfig =
    config.wal ?? (config.spool.type === 'disk' ? DiskWalConfig.parse({ type: 'disk' }) : { type: 'none' });
  return (logs[wal.type] as (c: WalConfig, x: WalContext) => WriteAheadLog | undefined)(wal, ctx);
}
