/** The URL with any password in it replaced by `***`, for logs and errors (`mqtt://gw:***@host:8883`). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** The login fields of a config (`MqttLogin`) that are set, as MQTT client options. */
export function mqttLogin(config: { readonly username?: string | undefined; readonly password?: string | undefined }): { username?: string; password?: string } {
  return { ...(config.username !== undefined && { username: config.username }), ...(config.password !== undefined && { password: config.password }) };
}
