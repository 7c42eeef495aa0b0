/** A source of telemetry. `start` begins delivery (and keeps reconnecting); `stop` ends it. */
export interface Source {
  readonly name: string;
  start(): Promise<void>;
  /** Resolves once the source can receive (an MQTT source has subscribed); sources that can at once have none. */
  ready?(): Promise<void>;
  /** After this resolves nothing more is delivered. */
  stop(): Promise<void>;
}
