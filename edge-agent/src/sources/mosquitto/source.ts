import { randomBytes } from 'node:crypto';
import { accessSync, constants, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { MOSQUITTO_AGENT_USERNAME, topics } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import type { IngestPipeline } from '../../core/pipeline.js';
import { MqttSource, type MqttSourceHooks } from '../mqtt.js';
import type { Source } from '../source.js';
import { DROPPED_TOPIC, mosquittoFiles, type MosquittoSourceConfig } from './config-files.js';
import { ChildSupervisor } from './supervisor.js';

/**
 * The login the agent reads its Mosquitto with. Fixed: Mosquitto checks a restored session's read
 * rights under the username it was saved with, before the agent is back to log in again.
 */
const AGENT_USERNAME = MOSQUITTO_AGENT_USERNAME;
/** How long a stop waits for Mosquitto to save its state and exit before killing it. */
const STOP_TIMEOUT_MS = 10_000;

/** Why start() failed; `code` says what to do. */
export class MosquittoStartError extends Error {
  constructor(
    readonly code: 'MOSQUITTO_NOT_FOUND' | 'MOSQUITTO_NOT_STARTED',
    message: string,
  ) {
    super(message);
    this.name = 'MosquittoStartError';
  }
}

export interface MosquittoEvents {
  /** Mosquitto exited on its own (a crash, a kill) and will be started again. */
  readonly restarted: (example: string) => void;
  /** Mosquitto dropped `count` messages at a queue or in-flight bound since the last report. */
  readonly dropped: (count: number, example: string) => void;
}

/**
 * The gateway's broker for sensors that speak MQTT 5 (or 3.1.1, 3.1): Debian's Mosquitto, run
 * and configured by the agent (config-files.ts says what it may hold and who may do what),
 * supervised (restarted with backoff when it exits), read by an MQTT 5 client with a persistent
 * session, and stopped with the agent.
 */
export class MosquittoSource implements Source {
  readonly name: string;
  private readonly dir: string;
  private supervisor: ChildSupervisor | undefined;
  private subscriber: MqttSource | undefined;
  private dropWatcher: MqttClient | undefined;
  private droppedSeen = 0;
  /** Set when Mosquitto exits before the agent has first subscribed: start() fails with its output. */
  private exitedAtStart: string | undefined;
  private subscribedOnce = false;

  constructor(
    private readonly config: MosquittoSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
    stateDir: string,
    private readonly events: MosquittoEvents,
    /** How the agent's subscriber to Mosquitto reports reconnects and holds its PUBACKs for the write-ahead log. */
    private readonly subscriberHooks: Omit<MqttSourceHooks, 'subscribed'> = {},
  ) {
    this.name = config.name;
    this.dir = join(stateDir, 'mosquitto', config.name);
  }

  /** The Mosquitto process while it runs (for tests and operators). */
  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  async start(): Promise<void> {
    const binary = findExecutable(this.config.binary);
    if (binary === undefined)
      throw new MosquittoStartError(
        'MOSQUITTO_NOT_FOUND',
        `${this.config.binary} was not found on PATH or in /usr/sbin: install Debian's mosquitto package (sudo apt-get install -y mosquitto)`,
      );
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await this.stopLeftover(binary);
    const login = { username: AGENT_USERNAME, password: randomBytes(24).toString('base64url') };
    for (const [file, text] of Object.entries(mosquittoFiles(this.config, this.dir, login, userInfo().username))) {
      writeFileSync(join(this.dir, file), text, { mode: 0o600 });
      chmodSync(join(this.dir, file), 0o600);
    }
    const log = this.log.child({ mosquitto: this.config.name });
    const supervisor = new ChildSupervisor({
      command: binary,
      args: ['-c', join(this.dir, 'mosquitto.conf')],
      restart: this.config.restart,
      line: (line) => log.debug({ line }, 'mosquitto'),
      exited: ({ code, signal, output, restartInMs }) => {
        if (!this.subscribedOnce) this.exitedAtStart = output.trim();
        const why = signal === null ? `exit code ${String(code)}` : signal;
        log.warn({ code, signal, output: output.slice(-1000), restartInMs }, 'mosquitto exited; starting it again');
        this.droppedSeen = 0; // its $SYS count of dropped messages starts from 0 again
        this.events.restarted(`${why}; last output: ${output.trim().split('\n').pop() ?? ''}`);
      },
    });
    this.supervisor = supervisor;
    supervisor.start();
    try {
      await this.connect(supervisor, login, log);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async connect(
    supervisor: ChildSupervisor,
    login: { username: string; password: string },
    log: Logger,
  ): Promise<void> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    await this.until(
      deadline,
      async () => (await accepts(connectHost(this.config.host), this.config.port)) && supervisor.running,
      () => `mosquitto did not listen on port ${this.config.port} within ${this.config.startTimeoutMs} ms`,
    );

    const url = `mqtt://${connectHost(this.config.host)}:${this.config.port}`;
    const subscriber = new MqttSource(
      {
        type: 'mqtt',
        name: this.config.name,
        url,
        ...login,
        topics: [topics.telemetryPattern],
        qos: 1,
        session: 'persistent',
        protocolVersion: 5,
        maxPayloadBytes: this.config.maxPayloadBytes,
      },
      this.pipeline,
      log,
      `${AGENT_USERNAME}-${this.config.name}`,
      // Saves the session with its subscription now, so a Mosquitto killed later restarts with it.
      { ...this.subscriberHooks, subscribed: () => supervisor.signal('SIGUSR1') },
    );
    this.subscriber = subscriber;
    await subscriber.start();
    void subscriber.ready().then(() => (this.subscribedOnce = true));
    await this.until(
      deadline,
      () => this.subscribedOnce,
      () =>
        `the agent could not subscribe to its Mosquitto within ${this.config.startTimeoutMs} ms: ${supervisor.recentOutput.trim()}`,
    );
    this.watchDrops(url, login);
    log.info(
      { host: this.config.host, port: this.config.port, users: this.config.users.length, pid: supervisor.pid },
      this.config.users.length > 0 ? 'mosquitto listening; logins required' : 'mosquitto listening; open to any client',
    );
  }

  ready(): Promise<void> {
    return this.subscriber?.ready() ?? Promise.reject(new Error('source not started'));
  }

  /** The subscriber leaves first (its session stays, with what arrives meanwhile), then Mosquitto saves its state and exits. */
  async stop(): Promise<void> {
    await this.subscriber?.stop();
    await this.dropWatcher?.endAsync(true);
    await this.supervisor?.stop(STOP_TIMEOUT_MS);
    this.subscriber = this.dropWatcher = this.supervisor = undefined;
  }

  /**
   * Polls `done` until it holds; fails when Mosquitto exits meanwhile (a taken port, a bad
   * config: a probe may even have reached another server on the port) or at the deadline.
   */
  private async until(deadline: number, done: () => boolean | Promise<boolean>, late: () => string): Promise<void> {
    for (;;) {
      if (this.exitedAtStart !== undefined)
        throw new MosquittoStartError('MOSQUITTO_NOT_STARTED', `mosquitto exited at start: ${this.exitedAtStart}`);
      if (await done()) return;
      if (Date.now() > deadline) throw new MosquittoStartError('MOSQUITTO_NOT_STARTED', late());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Counts what Mosquitto drops at its bounds (the agent's queue full while it was away or
   * behind): its $SYS total, which starts from 0 again when Mosquitto restarts.
   */
  private watchDrops(url: string, login: { username: string; password: string }): void {
    const client = mqtt.connect(url, {
      ...login,
      clientId: `${AGENT_USERNAME}-${this.config.name}-sys`,
      clean: true,
      reconnectPeriod: 1000,
    });
    this.dropWatcher = client;
    client.on('connect', () => client.subscribe(DROPPED_TOPIC, { qos: 0 }));
    client.on('error', () => undefined); // the subscriber reports the broker's state
    client.on('message', (_topic, payload) => {
      const total = Number(payload.toString());
      if (!Number.isSafeInteger(total) || total < 0) return;
      const dropped = total >= this.droppedSeen ? total - this.droppedSeen : total;
      this.droppedSeen = total;
      if (dropped > 0)
        this.events.dropped(
          dropped,
          `mosquitto dropped ${dropped} messages at its queue bound (maxQueuedMessages ${this.config.maxQueuedMessages}, maxQueuedBytes ${this.config.maxQueuedBytes})`,
        );
    });
  }

  /**
   * A Mosquitto of this source left running by an agent that was killed holds the port: it is
   * asked to stop (it saves the agent's queue), and killed if it will not.
   */
  private async stopLeftover(binary: string): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dir, 'mosquitto.pid'), 'utf8').trim());
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline[0] !== binary || !cmdline.includes(join(this.dir, 'mosquitto.conf'))) return;
    } catch {
      return; // no pid file, or that process is gone
    }
    this.log.warn({ pid }, 'stopping the mosquitto a previous run of the agent left running');
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(pid)) {
      if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Where the agent reaches a listener bound to `host`. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host.replace(/^\[|\]$/g, ''));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A path as given, or a name found on PATH or in Debian's sbin directories (where mosquitto is). */
function findExecutable(name: string): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']
        .filter((d) => d !== '')
        .map((d) => join(d, name));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
