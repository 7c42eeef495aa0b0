export { Fleet, type FleetOptions, type Behaviour } from './fleet.js';
export { fleetOptionsFromConfig, loadFleetFile } from './fleet-file.js';
export { SimDevice, type Frame, type DeviceSpec } from './device.js';
export { Simulator, SimulatorConfigError, type RunStats, type Transports } from './simulator.js';
export { SimClock } from './clock.js';
export { Rng } from './rng.js';
export { sensorKinds, type SensorKind } from './signals/kinds.js';
export { Signal } from './signals/signal.js';
export { anomalyKinds, defaultAnomalyKinds, anomalyModels, type AnomalyKind } from './anomalies/kinds.js';
export { planDeviceAnomalies, type AnomalyPlan, type GroundTruth } from './anomalies/plan.js';
export {
  alertMatches,
  scoreAlerts,
  formatScore,
  type Score,
  type ScoredAlert,
  type KindScore,
  type ScoreOptions,
} from './scoring/alerts.js';
export { MqttTransport, type MqttTransportOptions } from './transports/mqtt.js';
export { SerialTransport, type SerialTransportOptions } from './transports/serial.js';
export { PtyPair } from './transports/pty.js';
export { StreamTransport } from './transports/stream.js';
export {
  transportRegistry,
  type TransportName,
  type TransportSettings,
  type OpenedTransport,
} from './transports/registry.js';
export type { Transport } from './transports/transport.js';
export { parseDuration } from './duration.js';
