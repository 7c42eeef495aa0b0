import { timingSafeEqual } from 'node:crypto';
import { AGENT_ID_PATTERN, topics } from '@tributary/firmware-schemas';

/**
 * Who may do what on the embedded broker once users are configured (pure; broker.ts wires it to aedes).
 *
 * - `agent`: an edge agent whose username is its agent id. It may publish only its own batches and
 *   status, subscribe only to its own acks, and connect only as its own client id, so one gateway
 *   can neither pass batches off as another's (and spoil that agent's dedupe) nor take over its session.
 * - `reader`: dashboards and scorers: subscribe to alerts and agent status, publish nothing.
 * - `processor`: the cloud processor's own client, with a password made up at each start.
 *
 * A client may prove who it is with a password (`authenticate`) or, on a TLS listener that asks
 * for client certificates, with a certificate whose CN names it (`certified`).
 */
export type BrokerRole = 'agent' | 'reader' | 'processor';

export interface BrokerUser {
  readonly username: string;
  readonly password: string;
  readonly role: BrokerRole;
}

/** The client id an agent connects with (edge-agent's MQTT uplink). */
export const AGENT_CLIENT_PREFIX = 'tributary-agent-';
export const agentClientId = (agent: string): string => `${AGENT_CLIENT_PREFIX}${agent}`;

export class BrokerAcl {
  private readonly users = new Map<string, BrokerUser>();

  constructor(
    users: readonly BrokerUser[],
    /** The processor's MQTT client id: no one else may take it (and so its persistent session). */
    private readonly processorClientId: string,
  ) {
    for (const u of users) this.users.set(u.username, u);
  }

  /** The user these credentials name and prove, or undefined. */
  authenticate(clientId: string, username: string | undefined, password: Buffer | undefined): BrokerUser | undefined {
    const user = username === undefined ? undefined : this.users.get(username);
    if (!user || !password || !sameBytes(password, Buffer.from(user.password))) return undefined;
    return this.mayTake(user, clientId) ? user : undefined;
  }

  /**
   * The user a verified client certificate names by its CN: the `reader` of that name in the
   * users, else the agent of that id (the CA that signed it vouches; no password is needed). A
   * username sent as well must be that name.
   */
  certified(clientId: string, name: string, username: string | undefined): BrokerUser | undefined {
    if (username !== undefined && username !== name) return undefined;
    const listed = this.users.get(name);
    const user: BrokerUser | undefined =
      listed?.role === 'reader'
        ? listed
        : AGENT_ID_PATTERN.test(name)
          ? { username: name, password: '', role: 'agent' }
          : undefined;
    return user !== undefined && this.mayTake(user, clientId) ? user : undefined;
  }

  /** An agent connects only as its own client id; no one else takes an agent's, nor the processor's. */
  private mayTake(user: BrokerUser, clientId: string): boolean {
    if (user.role === 'processor') return true;
    if (clientId === this.processorClientId) return false;
    return user.role === 'agent' ? clientId === agentClientId(user.username) : !clientId.startsWith(agentClientId(''));
  }

  mayPublish(user: BrokerUser, topic: string): boolean {
    if (user.role === 'processor') return true;
    if (user.role === 'agent') return topic === topics.batches(user.username) || topic === topics.status(user.username);
    return false;
  }

  maySubscribe(user: BrokerUser, filter: string): boolean {
    if (user.role === 'processor') return true;
    const allowed = user.role === 'agent' ? [topics.acks(user.username)] : [topics.alertsPattern, topics.status('+')];
    return allowed.some((a) => covers(a, filter));
  }
}

/** True when every topic `filter` matches is also matched by `allowed` (both MQTT topic filters). */
export function covers(allowed: string, filter: string): boolean {
  const a = allowed.split('/');
  const f = filter.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= f.length || f[i] === '#') return false;
    if (a[i] === '+') continue;
    if (f[i] !== a[i]) return false; // includes a requested "+" where a fixed level is required
  }
  return f.length === a.length;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
