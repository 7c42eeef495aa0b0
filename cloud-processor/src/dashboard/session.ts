/**
 * The dashboard's sign-in: a browser cannot put an Authorization header on an EventSource (the
 * live alerts), so the read token, once checked, is kept in a cookie that stands for the header on
 * GET /metrics and /api/*. HttpOnly (page scripts never see it), SameSite=Strict (no other site's
 * page can make the browser send it), Path=/ and, unless the person asked to be remembered, only
 * for the browser session.
 */
export const SESSION_COOKIE = 'tributary_read';

/** How long "remember me" keeps the cookie. */
const REMEMBER_S = 30 * 86_400;

/** The Set-Cookie value holding `token` (a read token has no characters a cookie value forbids: checked by the caller). */
export function sessionCookie(token: string, remember: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${remember ? `; Max-Age=${REMEMBER_S}` : ''}`;
}

/** The Set-Cookie value that removes it (signing out). */
export const CLEARED_SESSION_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

/** `Bearer <token>` from a Cookie header holding the session cookie (RFC 6265 §5.4), else undefined. */
export function authorizationFromCookie(cookie: string | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  for (const pair of cookie.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    try {
      const token = decodeURIComponent(pair.slice(eq + 1).trim());
      return token === '' ? undefined : `Bearer ${token}`;
    } catch {
      return undefined; // not percent-encoded as we set it
    }
  }
  return undefined;
}

/** Whether an address is a loopback one (127.0.0.0/8, ::1, localhost): only this machine reaches it. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether the dashboard is served, and why not (http.dashboard): `auto` serves it on a loopback
 * address, or anywhere a read token guards its data.
 */
export function dashboardServed(http: {
  readonly host: string;
  readonly dashboard: 'auto' | 'on' | 'off';
  readonly readToken?: string | undefined;
  readonly token?: string | undefined;
}): { served: boolean; why: string } {
  if (http.dashboard === 'off') return { served: false, why: 'http.dashboard is off' };
  if (http.dashboard === 'on') return { served: true, why: 'http.dashboard is on' };
  if (isLoopback(http.host)) return { served: true, why: `http.host ${http.host} is a loopback address` };
  if (http.readToken !== undefined || http.token !== undefined)
    return { served: true, why: 'its data needs the read token' };
  return {
    served: false,
    why: `http.host ${http.host} is not a loopback address and no http.readToken guards the data (set one, or http.dashboard: on)`,
  };
}
