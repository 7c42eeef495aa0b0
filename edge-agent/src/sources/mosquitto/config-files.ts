import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { topics, type SourceConfig } from '@tributary/firmware-schemas';
import { MQTT_PACKET_OVERHEAD_BYTES } from '@tributary/runtime';

export type MosquittoSourceConfig = Extract<SourceConfig, { type: 'mosquitto' }>;

/** What the agent logs in to its Mosquitto with (a fresh password at every start). */
export interface MosquittoLogin {
  readonly username: string;
  readonly password: string;
}

/** The files the agent writes for its Mosquitto, by name inside its directory. */
export interface MosquittoFiles {
  readonly 'mosquitto.conf': string;
  readonly passwd: string;
  readonly acl: string;
}

/** Mosquitto's count of messages it dropped (a queue or in-flight bound), published every sys_interval. */
export const DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';
const SYS_INTERVAL_S = 10;

/**
 * A session left by a client that does not come back is forgotten after this. It holds no
 * messages (only the agent may subscribe), so this bounds the number of sessions in time.
 */
const FORGET_SESSIONS_AFTER = '1d';

/**
 * Mosquitto 2's password file line: `user:$7$iterations$salt$hash`, PBKDF2-SHA512 with a 12-byte
 * salt, both base64 (mosquitto_passwd's format, which `mosquitto_passwd -b` would also write, with
 * the password on its command line for `ps` to show).
 */
export function passwordLine(
  username: string,
  password: string,
  salt: Buffer = randomBytes(12),
  iterations = 1_000,
): string {
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${username}:$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The config, password and ACL files of the agent's Mosquitto, from the source's config. Rights
 * (mosquitto.conf(5), "acl_file"): the agent's login reads telemetry and the dropped-messages
 * count; with users, each may write only its devices' telemetry; without, anyone may write any
 * device's telemetry. Nobody else reads anything, so no stranger makes Mosquitto queue messages.
 *
 * Bounded state: the agent's queue by maxQueuedMessages and maxQueuedBytes (Mosquitto drops
 * beyond, counted in $SYS); retained messages one per device topic a login may write, none when
 * the broker is open (`retain_available false`); sessions forgotten a day after their client left. Persistence keeps the agent's session and its queue across a
 * restart of Mosquitto: it is saved only at the agent's request (SIGUSR1, sent once the agent has
 * subscribed) and when Mosquitto stops (`autosave_interval 0`), so a kill restores the agent's
 * subscription and messages sensors send before the agent is back wait for it.
 */
export function mosquittoFiles(
  config: MosquittoSourceConfig,
  dir: string,
  agent: MosquittoLogin,
  runAsUser: string,
): MosquittoFiles {
  const conf = [
    '# Written by the Tributary agent at each start (source "' + config.name + '"); edits are overwritten.',
    'per_listener_settings false',
    `listener ${config.port} ${config.host}`,
    'protocol mqtt',
    `max_connections ${config.maxClients}`,
    `allow_anonymous ${config.users.length === 0}`,
    `password_file ${join(dir, 'passwd')}`,
    `acl_file ${join(dir, 'acl')}`,
    `max_packet_size ${config.maxPayloadBytes + MQTT_PACKET_OVERHEAD_BYTES}`,
    // Retained messages are kept per topic: with users, topics are the listed devices' (bounded);
    // open to anyone, any device name would be one more, so retained publishes are refused.
    `retain_available ${config.users.length > 0}`,
    `max_queued_messages ${config.maxQueuedMessages}`,
    `max_queued_bytes ${config.maxQueuedBytes}`,
    'max_inflight_messages 1000',
    'set_tcp_nodelay true',
    `persistent_client_expiration ${FORGET_SESSIONS_AFTER}`,
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 0',
    `sys_interval ${SYS_INTERVAL_S}`,
    `pid_file ${join(dir, 'mosquitto.pid')}`,
    // Run as root, Mosquitto would switch to the user `mosquitto`, which cannot read these files.
    `user ${runAsUser}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'connection_messages false',
  ];
  const acl = ['# Anonymous clients (allowed only when the source has no users)'];
  if (config.users.length === 0) acl.push(`topic write ${topics.telemetryPattern}`);
  acl.push('', `user ${agent.username}`, `topic read ${topics.telemetryPattern}`, `topic read ${DROPPED_TOPIC}`);
  for (const user of config.users) {
    acl.push('', `user ${user.username}`);
    for (const device of user.devices ?? [user.username]) acl.push(`topic write ${topics.telemetry(device)}`);
  }
  const passwd = [agent, ...config.users].map((u) => passwordLine(u.username, u.password));
  return { 'mosquitto.conf': `${conf.join('\n')}\n`, passwd: `${passwd.join('\n')}\n`, acl: `${acl.join('\n')}\n` };
}
