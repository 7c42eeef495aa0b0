import type { Logger } from '@tributary/runtime';

export interface PortInfo {
  readonly path: string;
  readonly manufacturer?: string | undefined;
  readonly serialNumber?: string | undefined;
}

/**
 * The serial ports the system knows. `SerialPort.list()` runs `udevadm` on Linux; where it is
 * missing (containers, minimal images) or fails, this says so once and returns no ports: listing
 * is a convenience, reading a configured path does not need it.
 */
export async function listSerialPorts(
  log: Logger,
  list: () => Promise<PortInfo[]> = async () => (await import('serialport')).SerialPort.list(),
): Promise<PortInfo[]> {
  try {
    return (await list()).map((p) => ({ path: p.path, manufacturer: p.manufacturer, serialNumber: p.serialNumber }));
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'cannot list serial ports (is udevadm installed?); configure the port path directly',
    );
    return [];
  }
}
