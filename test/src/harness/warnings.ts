import { silentLogger, type Logger } from '@tributary/runtime';

/** A logger (and its children) that keeps each warning as its message and fields. */
export function recordWarnings(warnings: string[]): Logger {
  const log: Logger = {
    ...silentLogger,
    warn: (o, msg) => void warnings.push(`${msg} ${JSON.stringify(o)}`),
    child: () => log,
  };
  return log;
}
