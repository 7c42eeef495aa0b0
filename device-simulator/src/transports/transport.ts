import type { Frame } from '../device.js';

/** Where the simulator's frames go (MQTT, a serial port or pseudo-terminal, stdout or a file). */
export interface Transport {
  /**
   * Sends one frame. A returned promise means "wait before sending more" (backpressure): the
   * simulator awaits it, so a slow link slows the run down instead of filling memory.
   */
  send(frame: Frame): void | Promise<void>;
  /** Resolves when everything sent so far has left (for MQTT QoS 1: been acknowledged). */
  flush(): Promise<void>;
  /** Flushes, then releases the link; nothing is sent after it resolves. */
  close(): Promise<void>;
}
