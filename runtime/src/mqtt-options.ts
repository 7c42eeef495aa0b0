import './mqtt-packet-numbers.js';

/**
 * The MQTT client options every Tributary client shares: the login fields of a config
 * (`MqttLogin`) that are set, and mqtt.js's debug logging switched off unless DEBUG names its
 * namespace (`DEBUG=mqttjs*`, the `debug` module's switch): mqtt.js calls its debug logger a dozen
 * times per message, and left on, those disabled calls cost about 7 % of the CPU of a busy
 * telemetry subscriber; a no-op logger costs nothing. The one place this switch is made.
 */
export function mqttOptions(
  config: { readonly username?: string | undefined; readonly password?: string | undefined } = {},
): {
  username?: string;
  password?: string;
  log?: (...args: unknown[]) => void;
} {
  return {
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(!/mqttjs/.test(process.env.DEBUG ?? '') && { log: noLog }),
  };
}

function noLog(): void {}

/**
 * MQTT 5 §3.1.2.11.2: a session whose expiry interval is 0xFFFFFFFF never expires. MQTT 5 ends a
 * session with its connection unless the client asks for an interval, so a persistent session
 * (what `clean: false` gives in 3.1.1) needs one.
 */
const SESSION_NEVER_EXPIRES = 0xffffffff;

/**
 * The protocol and session options of an MQTT client: `protocolVersion` 4 (MQTT 3.1.1) or 5, and
 * a clean or persistent session, the latter kept by the broker across disconnections in either
 * version.
 */
export function mqttSessionOptions(
  protocolVersion: 4 | 5,
  session: 'clean' | 'persistent',
): { protocolVersion: 4 | 5; clean: boolean; properties?: { sessionExpiryInterval: number } } {
  const clean = session === 'clean';
  return {
    protocolVersion,
    clean,
    ...(protocolVersion === 5 && !clean && { properties: { sessionExpiryInterval: SESSION_NEVER_EXPIRES } }),
  };
}
