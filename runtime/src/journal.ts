import { fstatSync } from 'node:fs';

/**
 * The syslog priority of a pino level (pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error,
 * 60 fatal; syslog(3): 2 crit, 3 err, 4 warning, 6 info, 7 debug), so `journalctl -p warning`
 * shows the warnings and errors.
 */
export function journalPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/**
 * Whether file descriptor `fd` is connected to the journal: systemd sets JOURNAL_STREAM to the
 * `<device>:<inode>` of the stream it gives a service's stdout and stderr (systemd.exec(5),
 * "Environment variables set by the service manager"); a child of the service that inherits the
 * variable but writes elsewhere does not match.
 */
export function isJournalStream(fd: number, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (match === null) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** What pino writes to (a SonicBoom from pino.destination, or any stream). */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * `destination` as it is, unless stdout is the journal: then each line starts with its priority as
 * `<N>` (sd-daemon(3); journald's SyslogLevelPrefix=yes, the default, strips it and files the line
 * at that priority). pino tells a stream that asks for metadata the level of the line it writes.
 */
export function journalAware(
  destination: LogDestination,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogDestination {
  if (!isJournalStream(1, env)) return destination;
  return {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: 30,
    write(this: { lastLevel: number }, line: string) {
      return destination.write(`<${journalPriority(this.lastLevel)}>${line}`);
    },
  } as LogDestination;
}
