/**
 * The MQTT client options every Tributary client shares: the login fields of a config
 * (`MqttLogin`) that are set, and mqtt.js's debug logging switched off unless DEBUG asks for it
 * (left on, its disabled `debug` calls cost about 7 % of the CPU of a busy telemetry subscriber).
 */
export function mqttOptions(config: { readonly username?: string | undefined; readonly password?: string | undefined } = {}): {
  username?: string;
  password?: string;
  log?: (...args: unknown[]) => void;
} {
  return {
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(!/mqtt/i.test(process.env.DEBUG ?? '') && { log: noLog }),
  };
}

function noLog(): void {}
