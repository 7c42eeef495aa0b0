import type { AgentConfig } from '@tributary/firmware-schemas';
import type { BatchQueue } from './spool/batch-queue.js';
import type { Delivery } from './uplink/delivery.js';

/** What the agent's /health judges it by, read at the moment of the request. */
export interface AgentHealthInputs {
  /** Since when the uplink is down (ms, the agent's clock), or undefined while connected. */
  readonly uplinkDownSinceMs: number | undefined;
  /** How long the oldest batch of this run has waited for the cloud's ack (ms). */
  readonly oldestUnackedMs: number;
  readonly ackTimeoutMs: number;
  /** The spool's fill against its bound, 0–1, and its policy there. */
  readonly spoolFill: number;
  readonly spoolOnFull: 'drop-oldest' | 'reject-new';
}

/** Spool fill from which /health warns: the bound's policy starts losing batches at 1. */
export const SPOOL_FILL_UNHEALTHY = 0.9;
/** Resends of a batch gone unanswered before its wait is news (each after ackTimeoutMs). */
const UNANSWERED_SENDS = 3;

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/**
 * Why the agent is unhealthy, one sentence per reason (empty when healthy): the cloud unreachable
 * or not acking for longer than ackTimeoutMs (or three of them for a batch), so batches pile up in
 * the spool; the spool nearly at its bound, where its policy drops batches.
 */
export function agentHealthReasons(h: AgentHealthInputs, now: number): string[] {
  const reasons: string[] = [];
  const downFor = h.uplinkDownSinceMs === undefined ? 0 : now - h.uplinkDownSinceMs;
  if (downFor > h.ackTimeoutMs)
    reasons.push(`not connected to the cloud for ${seconds(downFor)}; batches wait in the spool`);
  if (h.oldestUnackedMs > UNANSWERED_SENDS * h.ackTimeoutMs)
    reasons.push(
      `the oldest unacked batch has waited ${seconds(h.oldestUnackedMs)} for the cloud's ack (uplink.ackTimeoutMs ${h.ackTimeoutMs})`,
    );
  if (h.spoolFill >= SPOOL_FILL_UNHEALTHY) {
    reasons.push(
      `spool ${Math.round(h.spoolFill * 100)}% full; at its bound ${h.spoolOnFull === 'drop-oldest' ? 'the oldest batches are dropped' : 'new batches are dropped'}`,
    );
  }
  return reasons;
}

/** The agent's /health answer: ok, or each reason it is not, and the figures behind them. */
export type AgentHealth = {
  readonly ok: boolean;
  readonly reasons: string[];
  readonly uplinkConnected: boolean;
  readonly spooledBatches: number;
  readonly activeSeries: number;
};

/** Judges the agent as it stands at `now` (agentHealthReasons), with the figures /health shows. */
export function agentHealth(
  config: Pick<AgentConfig, 'uplink' | 'spool'>,
  parts: { readonly uplink: Delivery; readonly queue: BatchQueue; readonly activeSeries: number },
  now: number,
): AgentHealth {
  const { uplink, spool } = config;
  const waiting = parts.uplink.waiting(now);
  const spoolFill =
    spool.type === 'memory' ? parts.queue.size / spool.maxBatches : parts.queue.bytes / spool.maxSpoolBytes;
  const reasons = agentHealthReasons(
    {
      uplinkDownSinceMs: waiting.downSinceMs,
      oldestUnackedMs: waiting.oldestUnackedMs,
      ackTimeoutMs: uplink.ackTimeoutMs,
      spoolFill,
      spoolOnFull: spool.onFull,
    },
    now,
  );
  return {
    ok: reasons.length === 0,
    reasons,
    uplinkConnected: parts.uplink.isConnected,
    spooledBatches: parts.uplink.queued,
    activeSeries: parts.activeSeries,
  };
}
