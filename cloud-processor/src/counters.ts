/** Every counter of the cloud processor, with its help text. */
export const cloudCounterHelp = {
  batches_received: 'batch messages received',
  batches_invalid: 'batches rejected: not decodable or not valid',
  batches_duplicate: 'batches already written (same agent and seq), acked without writing',
  batches_written: 'batches whose points InfluxDB accepted',
  batches_refused: 'batches InfluxDB refused (HTTP 400), acked as rejected',
  windows_written: 'window results written',
  points_written: 'points written (windows, agent stats, anomalies)',
  write_retries: 'InfluxDB writes retried',
  acks_sent: 'acks published',
  alerts_opened: 'alerts opened',
  alerts_updated: 'alert updates',
  alerts_resolved: 'alerts resolved',
  alerts_dropped: 'alert openings dropped at the open-alert bound',
  series_evicted: 'series whose detector state was evicted at the bound',
} as const;

export type CloudCounter = keyof typeof cloudCounterHelp;
