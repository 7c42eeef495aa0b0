import type { BrokerRefusal } from './broker/embedded.js';

/** Every counter of the cloud processor, with its help text. */
export const cloudCounterHelp = {
  batches_received: 'batch messages received',
  batches_invalid: 'batches rejected: not decodable, or an invalid envelope',
  batches_unsupported_version: 'batches of a format version this build does not read (left unacked)',
  windows_invalid: 'windows skipped inside otherwise valid batches',
  batches_duplicate: 'batches already written (same agent and seq), acked without writing',
  batches_tracked_apart:
    'batches written and tracked for dedupe apart from their agent’s other seqs: a seq more than dedupe.maxSeqGap past (or a window below) them, or a new epoch (lost batches, a reset agent, or someone posting as it); logged as errors',
  batches_written: 'batches whose points are durable (written, or refused by InfluxDB and dead-lettered), then acked',
  windows_written: 'window results written',
  points_written: 'points written (windows, agent stats, anomalies)',
  points_dead_lettered:
    'points InfluxDB refused (field type conflict, beyond retention, ...), written to the dead-letter file with its reason',
  points_dead_letter_dropped:
    'refused or unencodable points dropped because the dead-letter file was full (or could not be written)',
  points_unencodable:
    'points the processor could not encode as line protocol: written to the dead-letter file with the reason; the rest of their batch is written and acked',
  corrections_unjudged:
    'corrections (rev > 0) of windows whose first emission was no longer remembered (detection.maxJudgedWindows, or a restart): stored without the judged values, so replay judges the corrected ones',
  batches_detection_failed:
    'batches whose anomaly detection threw: their points are written and acked, without alerts from them',
  batches_failed:
    'batches whose processing threw otherwise: dead-lettered as they arrived and acked rejected (left unacked if the dead-letter file cannot take them)',
  write_requests: 'write requests sent to InfluxDB (several batches each)',
  write_bytes: 'request body bytes sent to InfluxDB (after gzip)',
  write_retries: 'write requests retried (429, 5xx, timeouts, connection failures)',
  write_splits: 'write requests split in two (413, or to single out points InfluxDB refused)',
  write_refusals:
    'write requests refused for credentials (401/403) or a missing database or bucket (404); nothing is acked meanwhile',
  acks_sent: 'acks published',
  http_uploads_refused:
    'batch uploads over HTTP answered 413 (too large), 429 (its agent has http.maxUploadsPerAgent being read) or 503 (backlog full, http.maxConcurrentUploads being read) before reaching the intake',
  http_uploads_forbidden:
    'batch uploads over HTTP refused for their credentials: 401 (no or unknown token) or 403 (a token posting as another agent, or the shared token as an agent with its own)',
  http_reads_refused: 'GETs of /metrics or /api/* answered 401 (no or wrong read token)',
  http_tls_refused:
    'HTTPS connections refused: a failed TLS handshake (plain HTTP on the HTTPS port, no common protocol) or not finished within http.requestTimeoutMs, a client certificate not signed by http.tls.ca or out of date, or none where http.tls.clientCertificates is required',
  mqtt_packets_refused:
    'connections to the embedded broker closed for a packet over maxBatchBytes + 64 KiB (or a malformed packet header), before its body was buffered',
  mqtt_connects_refused:
    'connections the embedded broker closed before login: a CONNECT over broker.unauthenticated.maxConnectBytes, or a first packet that is not a CONNECT',
  mqtt_unauthenticated_over_budget:
    'connections the embedded broker closed before login because clients not logged in held broker.unauthenticated.maxBufferedBytes',
  mqtt_connect_timeouts:
    'connections the embedded broker closed for not logging in within broker.unauthenticated.connectTimeoutMs (with TLS: or not finishing the handshake within it)',
  mqtt_tls_refused:
    'connections the embedded broker refused on TLS: a failed handshake (plain MQTT on the mqtts port, no common protocol), a client certificate not signed by broker.tls.ca or out of date, or none where broker.tls.clientCertificates is required',
  mqtt_protocol_refused:
    'connections the embedded broker refused for their MQTT version (aedes takes 3.1.1 and 3.1, not 5)',
  mqtt_logins_refused:
    'logins the embedded broker refused (broker.users set: anonymous, a wrong password, or a client id the user may not take)',
  mqtt_publishes_refused: 'publishes the embedded broker refused by role (the connection is closed)',
  mqtt_subscriptions_refused: 'subscriptions the embedded broker refused by role (0x80 in the SUBACK)',
  mqtt_sessions_refused: 'persistent sessions the embedded broker refused (only agents and the processor may keep one)',
  alerts_opened: 'alerts opened',
  alerts_updated: 'alert updates',
  alerts_resolved: 'alerts resolved',
  alerts_dropped: 'alert openings dropped at the open-alert bound',
  series_evicted: 'series whose detector state was evicted at the bound',
  detection_workers_restarted:
    'detection worker threads that died (a bug, or out of memory) and were started again; the series they held started afresh',
  dashboard_streams_refused: 'dashboard event streams refused: http.maxEventStreams already open',
  dashboard_streams_dropped: 'dashboard event streams cut off: the browser read too slowly (it reconnects)',
  dashboard_agents_evicted:
    "agents the dashboard's fleet view forgot at dedupe.maxAgents (the least recently heard from)",
  machine_metrics_left_out:
    "readings of a device's metrics beyond detection.devices.settings.maxMetrics, left out of its machine detector (each metric is still judged on its own)",
} as const;

export type CloudCounter = keyof typeof cloudCounterHelp;

/** The counter of each kind of refusal by the embedded broker. */
export const brokerRefusalCounter: Record<BrokerRefusal, CloudCounter> = {
  packet: 'mqtt_packets_refused',
  connect: 'mqtt_connects_refused',
  budget: 'mqtt_unauthenticated_over_budget',
  timeout: 'mqtt_connect_timeouts',
  tls: 'mqtt_tls_refused',
  protocol: 'mqtt_protocol_refused',
  login: 'mqtt_logins_refused',
  publish: 'mqtt_publishes_refused',
  subscription: 'mqtt_subscriptions_refused',
  session: 'mqtt_sessions_refused',
};
