import { createHash, timingSafeEqual } from 'node:crypto';
import { AGENT_ID_PATTERN } from '@tributary/firmware-schemas';

/** The credentials of the cloud's HTTP server (the `http` section of the processor config). */
export interface HttpCredentials {
  /** A token per agent: a batch posted with it is that agent's, proven. */
  readonly agents: ReadonlyArray<{ readonly agentId: string; readonly token: string }>;
  /** Shared: its holder may post batches as any agent without a token of its own (claimed, not proven). */
  readonly token?: string | undefined;
  /** For GET /metrics and /api/*. */
  readonly readToken?: string | undefined;
}

/**
 * Who posts a batch: the agent its client certificate or token proves, or the one it claims
 * (shared token, open server).
 */
export interface Uploader {
  readonly agent: string | undefined;
  /** How the agent is known: proven by its `certificate` or own `token`, or `claimed`. */
  readonly proof: 'certificate' | 'token' | 'claimed';
}

export type UploadAccess =
  | { readonly ok: true; readonly uploader: Uploader }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is case-insensitive). */
function bearer(authorization: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return m?.[1];
}

/**
 * Decides who may post batches and read the API. Tokens are compared by their SHA-256 digests
 * (looked up by digest, compared in constant time), so how long a refusal takes says nothing
 * about a token.
 */
export class HttpAccess {
  /** Digest of an agent's token (base64) → that agent. */
  private readonly agentByToken = new Map<string, string>();
  private readonly withOwnToken = new Set<string>();
  private readonly shared: Buffer | undefined;
  private readonly readers: Buffer[];

  constructor(
    c: HttpCredentials,
    /** The HTTPS server asks for client certificates: uploads then need a certificate or a token. */
    private readonly certificates = false,
  ) {
    for (const { agentId, token } of c.agents) {
      this.agentByToken.set(digest(token).toString('base64'), agentId);
      this.withOwnToken.add(agentId);
    }
    this.shared = c.token === undefined ? undefined : digest(c.token);
    this.readers = [c.readToken, c.token].flatMap((t) => (t === undefined ? [] : [digest(t)]));
  }

  /** True when batch uploads need a token (or a client certificate). */
  get guarded(): boolean {
    return this.certificates || this.shared !== undefined || this.agentByToken.size > 0;
  }

  /**
   * Whether a batch upload may proceed, and as whom. `claimed` is the agent the request names
   * (the `x-tributary-agent` header, when it is a valid agent id); `certified` the name its
   * verified client certificate gives (its CN), which proves the agent as its own token would.
   */
  upload(authorization: string | undefined, claimed: string | undefined, certified?: string): UploadAccess {
    if (certified !== undefined) {
      if (!AGENT_ID_PATTERN.test(certified))
        return {
          ok: false,
          status: 403,
          reason: `the client certificate names ${JSON.stringify(certified.slice(0, 80))}, not an agent id`,
        };
      if (claimed !== undefined && claimed !== certified)
        return { ok: false, status: 403, reason: `the certificate of ${certified} may not post as ${claimed}` };
      return { ok: true, uploader: { agent: certified, proof: 'certificate' } };
    }
    if (!this.guarded) return { ok: true, uploader: { agent: claimed, proof: 'claimed' } };
    const token = bearer(authorization);
    if (token === undefined)
      return { ok: false, status: 401, reason: `no bearer token${claimed === undefined ? '' : ` (as ${claimed})`}` };
    const presented = digest(token);
    const bound = this.agentByToken.get(presented.toString('base64'));
    if (bound !== undefined) {
      if (claimed !== undefined && claimed !== bound)
        return { ok: false, status: 403, reason: `the token of ${bound} may not post as ${claimed}` };
      return { ok: true, uploader: { agent: bound, proof: 'token' } };
    }
    if (this.shared === undefined || !timingSafeEqual(presented, this.shared))
      return {
        ok: false,
        status: 401,
        reason: `unknown bearer token${claimed === undefined ? '' : ` (as ${claimed})`}`,
      };
    // The named agent is then held to its batch's (ForeignAgentError), so it must be named.
    if (claimed === undefined)
      return { ok: false, status: 403, reason: 'the shared token must name its agent (x-tributary-agent)' };
    if (this.withOwnToken.has(claimed))
      return {
        ok: false,
        status: 403,
        reason: `the shared token may not post as ${claimed}, which has a token of its own`,
      };
    return { ok: true, uploader: { agent: claimed, proof: 'claimed' } };
  }

  /** True when a GET of /metrics or /api/* may be answered: open only on a server without any token. */
  mayRead(authorization: string | undefined): boolean {
    if (this.readers.length === 0) return !this.guarded;
    const token = bearer(authorization);
    if (token === undefined) return false;
    const presented = digest(token);
    return this.readers.some((r) => timingSafeEqual(presented, r));
  }
}
