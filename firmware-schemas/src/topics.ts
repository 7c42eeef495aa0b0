/** MQTT topic names shared by firmware, agent and cloud (see DESIGN.md, "Wire contracts"). */
export const topics = {
  telemetry: (device: string) => `sensors/${device}/telemetry`,
  telemetryPattern: 'sensors/+/telemetry',
  batches: (agent: string) => `tributary/v1/agents/${agent}/batches`,
  batchesPattern: 'tributary/v1/agents/+/batches',
  acks: (agent: string) => `tributary/v1/agents/${agent}/acks`,
  status: (agent: string) => `tributary/v1/agents/${agent}/status`,
  alert: (device: string, metric: string) => `tributary/v1/alerts/${device}/${metric}`,
  alertsPattern: 'tributary/v1/alerts/#',
} as const;

/** The `{agent}` segment of `tributary/v1/agents/{agent}/...`, or undefined. */
export function agentOfTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts.length === 5 && parts[0] === 'tributary' && parts[1] === 'v1' && parts[2] === 'agents'
    ? parts[3]
    : undefined;
}
