/** The URL with any password in it replaced by `***`, for logs and errors (`mqtt://gw:***@host:8883`). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}
