import type { Telemetry } from '@tributary/firmware-schemas';

/** Where the simulator's messages go (MQTT, a serial port, stdout). */
export interface Transport {
  /** Sends one message; a returned promise means "wait before sending more" (backpressure). */
  send(message: Telemetry): void | Promise<void>;
  /** Resolves when everything sent so far has left (for QoS 1: been acknowledged). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
