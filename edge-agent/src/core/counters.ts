/** Every counter of the agent, with its help text (Prometheus `# HELP`). */
export const agentCounterHelp = {
  messages_received: 'telemetry messages and serial lines received from sources',
  messages_shed: 'messages dropped before decoding: over intake.maxMessagesPerS (load shedding)',
  messages_invalid: 'messages skipped because they could not be decoded or validated',
  invalid_too_large: 'messages skipped: payload over the size limit',
  invalid_bad_json: 'messages skipped: not JSON',
  invalid_schema: 'messages skipped: schema violation',
  invalid_bad_id: 'messages skipped: device id with forbidden characters',
  invalid_framing: 'serial lines skipped: framing error (truncated, garbage, over-long)',
  invalid_checksum: 'serial lines skipped: checksum mismatch',
  invalid_version: 'messages skipped: a format version this agent does not read',
  readings_received: 'readings in valid messages (one per metric value)',
  readings_filtered: 'readings removed by pre-filters (all kinds)',
  filtered_range: 'readings removed by the range filter (out of range)',
  filtered_deadband: 'readings removed by the deadband filter (unchanged within the deadband)',
  filtered_rate_limit: 'readings removed by the rate-limit filter',
  filtered_dedupe: 'readings removed by the dedupe filter (device and seq seen before)',
  filtered_spike: 'readings removed by the spike filter (far from the median)',
  filter_state_evicted: 'series whose filter state was forgotten at a filter maxSeries',
  readings_future: 'readings rejected: timestamp too far ahead of the agent clock',
  readings_late: "readings dropped: their window was already emitted (later than their device's watermark)",
  readings_too_late: 'readings dropped: later than the correction horizon',
  readings_corrected: 'late readings added to an emitted window, which was re-emitted',
  readings_series_limit: 'readings dropped: new series over maxSeries',
  readings_pane_limit: 'readings dropped: series over maxPanesPerSeries',
  readings_evicted_window: 'readings dropped: their window was emitted when their series was evicted',
  readings_accepted: 'readings accepted into windows',
  series_evicted: 'series evicted (least recently updated) to make room',
  device_clocks_forgotten:
    'device clocks forgotten at the bound (maxSeries) while ahead of the agent: devices it does not know start no lower than them',
  windows_emitted: 'window results emitted (including corrections)',
  windows_out_of_range_only:
    'of the windows emitted, those whose every reading was out of range: sent with count 0 and their outOfRange, no value statistics',
  broker_packets_refused:
    "connections to the gateway's mqtt-broker source closed for a packet over maxPayloadBytes + 64 KiB (or a malformed header)",
  broker_connects_refused:
    "connections to the gateway's mqtt-broker source closed before login: a CONNECT over unauthenticated.maxConnectBytes, or a first packet that is not a CONNECT",
  broker_unauthenticated_over_budget:
    "connections to the gateway's mqtt-broker source closed before login because clients not logged in held unauthenticated.maxBufferedBytes",
  broker_connect_timeouts:
    "connections to the gateway's mqtt-broker source closed for not logging in within unauthenticated.connectTimeoutMs (with TLS: or not finishing the handshake within it)",
  broker_tls_refused:
    "connections to the gateway's mqtt-broker source refused on TLS: a failed handshake (plain MQTT on the mqtts port), a client certificate not signed by tls.ca or out of date, or none where tls.clientCertificates is required",
  broker_protocol_refused:
    "connections to the gateway's mqtt-broker source refused for their MQTT version (aedes takes 3.1.1 and 3.1, not 5)",
  broker_logins_refused: "connections to the gateway's mqtt-broker source refused for a bad or missing login",
  broker_subscriptions_refused:
    "subscriptions to the gateway's mqtt-broker source refused: persistent sessions may publish but not subscribe",
  broker_subscriber_drops:
    "messages the gateway's mqtt-broker source dropped for a subscriber that did not take them (maxSubscriberQueueBytes queued for it already)",
  mosquitto_restarts: "times the gateway's Mosquitto (source type mosquitto) exited on its own and was started again",
  mosquitto_messages_dropped:
    "messages the gateway's Mosquitto dropped at its bounds (maxQueuedMessages, maxQueuedBytes) before the agent read them",
  serial_port_lost: 'times a serial port closed or failed to open (it is reopened with backoff)',
  batches_sealed: 'batches sealed and queued for the uplink',
  batches_sent: 'batch publishes, resends included',
  batches_resent: 'batch publishes that were resends',
  batches_acked: 'batches acknowledged by the cloud as written',
  batches_duplicate: 'batches the cloud reported as already written',
  batches_rejected: 'batches the cloud rejected as invalid',
  batches_dropped: 'batches dropped at the spool bound',
  readings_dropped:
    'readings inside batches dropped at the spool bound (Σ count of their windows: sliding windows count a reading once per window)',
  windows_dropped:
    'windows inside batches dropped at the spool bound, those of out-of-range readings only (count 0, not in readings_dropped) included',
  batches_dropped_unsent: 'of the dropped batches, those never sent: certainly lost',
  readings_dropped_unsent:
    'readings inside dropped batches that were never sent: certainly lost (Σ count, as readings_dropped)',
  windows_dropped_unsent: 'windows inside dropped batches that were never sent: certainly lost (as windows_dropped)',
  batches_abandoned: 'batches dropped: never answered while 10,000 later ones were acked',
  readings_abandoned: 'readings inside abandoned batches',
  windows_abandoned: 'windows inside abandoned batches (as windows_dropped)',
  spool_torn_records: 'damaged spool records found and skipped at start (torn writes)',
  readings_recovered:
    'readings of windows not yet spooled at a crash, put back into their windows from the write-ahead log at start',
  readings_lost_at_crash:
    'readings the write-ahead log holds but could not put back at start (corrections of windows already sent: re-emit mode)',
  messages_redelivered_logged:
    'messages a broker delivered again after a crash that the write-ahead log already held (not counted twice)',
  wal_readings_unprotected:
    'readings accepted (or removed by the range filter and counted in an open window) but not in the write-ahead log (at maxWalBytes, or a failed write): a crash before their windows are spooled loses them',
  wal_torn_records:
    'damaged write-ahead log records found and cut off at start (torn writes: not acknowledged, so re-delivered)',
} as const;

export type AgentCounter = keyof typeof agentCounterHelp;
