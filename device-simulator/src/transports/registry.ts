import type { TlsFiles } from '@tributary/runtime';
import { MqttTransport } from './mqtt.js';
import { PtyPair } from './pty.js';
import { SerialTransport } from './serial.js';
import { StreamTransport } from './stream.js';
import type { Transport } from './transport.js';

/** Settings a transport may take; each entry of the table reads the ones it needs. */
export interface TransportSettings {
  readonly url?: string;
  readonly qos?: 0 | 1;
  readonly connections?: number | 'per-device';
  /** MQTT over TLS: the CA to trust, a client certificate and key. */
  readonly tls?: TlsFiles;
  readonly path?: string;
  readonly baudRate?: number;
  /** Ids of the devices that will use the transport (MQTT per-device connections). */
  readonly devices: readonly string[];
}

export interface OpenedTransport {
  readonly transport: Transport;
  /** Where the frames go, for people (e.g. the pseudo-terminal end a reader should open). */
  readonly description: string;
  /** Closes the transport and anything it started (socat). */
  close(): Promise<void>;
}

/** The one table of transports: `mqtt`, `serial`, `pty`, `stdout` and `file`. */
export const transportRegistry: Readonly<
  Record<'mqtt' | 'serial' | 'pty' | 'stdout' | 'file', (s: TransportSettings) => Promise<OpenedTransport>>
> = {
  mqtt: async (s) => {
    const url = s.url ?? 'mqtt://127.0.0.1:1883';
    const t = await MqttTransport.connect({
      url,
      qos: s.qos ?? 1,
      connections: s.connections ?? 1,
      devices: s.devices,
      ...(s.tls && { tls: s.tls }),
    });
    return {
      transport: t,
      description: `MQTT ${url} (QoS ${s.qos ?? 1}, ${t.connections} connection${t.connections === 1 ? '' : 's'})`,
      close: () => t.close(),
    };
  },
  serial: async (s) => {
    if (s.path === undefined) throw new Error('the serial transport needs a port path, e.g. /dev/ttyUSB0');
    const t = await SerialTransport.open({ path: s.path, baudRate: s.baudRate ?? 115_200 });
    return {
      transport: t,
      description: `serial port ${s.path} at ${s.baudRate ?? 115_200} baud`,
      close: () => t.close(),
    };
  },
  pty: async (s) => {
    const pair = await PtyPair.create(s.path);
    try {
      const t = await SerialTransport.open({ path: pair.deviceEnd, baudRate: s.baudRate ?? 115_200 });
      return {
        transport: t,
        description: `pseudo-terminal ${pair.readerEnd} (socat, paced at ${s.baudRate ?? 115_200} baud)`,
        close: async () => {
          await t.close();
          await pair.close();
        },
      };
    } catch (err) {
      await pair.close();
      throw err;
    }
  },
  stdout: async () => {
    const t = StreamTransport.stdout();
    return { transport: t, description: 'stdout', close: () => t.close() };
  },
  file: async (s) => {
    if (s.path === undefined) throw new Error('the file transport needs a path');
    const t = StreamTransport.file(s.path);
    return { transport: t, description: `file ${s.path}`, close: () => t.close() };
  },
};

export type TransportName = keyof typeof transportRegistry;
