import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (Linux). */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU seconds the calling thread has used so far, from /proc/thread-self/stat (Linux): the event loop's own, without worker or helper threads. */
export function threadCpuSeconds(): number {
  return statCpuSeconds(readFileSync('/proc/thread-self/stat', 'utf8'));
}

/** The pid of the process whose command line mentions `needle` (e.g. a private influxd's config path). */
export function pidOf(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Resident memory of this process by kind, from /proc/self/status (Linux): anonymous (heaps, buffers, malloc) and file-backed (code). */
export function residentKinds(): { anonBytes: number; fileBytes: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kB = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { anonBytes: kB('RssAnon'), fileBytes: kB('RssFile') };
}
