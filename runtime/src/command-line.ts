import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The command line of a Tributary CLI, read the way every one of them reads it: `--help` or `-h`
 * (before any `--`) prints `usage` to stdout and exits 0; an unknown flag, a flag without its
 * value or a stray argument prints `<program>: <what is wrong>` and the usage to stderr and exits
 * 2, the status every CLI uses for "you asked for something wrong" (systemd units do not restart
 * on it). Parsing is node:util's, strict.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  program: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      commandLineError(program, usage, (err as Error).message);
    throw err;
  }
}

/** Prints `<program>: <message>` and the usage to stderr, and exits with status 2. */
export function commandLineError(program: string, usage: string, message: string): never {
  process.stderr.write(`${program}: ${message}\n\n${usage}`);
  process.exit(2);
}
