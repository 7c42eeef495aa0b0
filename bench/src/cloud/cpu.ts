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

/**
 * Resident memory of this process by kind, from /proc/self/status and /proc/self/smaps (Linux):
 * anonymous (heaps, buffers, malloc) and file-backed (code), and of the anonymous part what
 * glibc's malloc holds (its main heap, `[heap]`, and the 64 MB-aligned arenas it gives threads).
 */
export function residentKinds(): { anonBytes: number; fileBytes: number; mallocBytes: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kB = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { anonBytes: kB('RssAnon'), fileBytes: kB('RssFile'), mallocBytes: mallocResident() };
}

/** glibc's arenas are HEAP_MAX_SIZE (64 MB on 64-bit) regions aligned to their size. */
const ARENA_BYTES = 64 * 1024 * 1024;

/**
 * Resident bytes of glibc malloc's main heap and thread arenas. An arena is a read-write mapping
 * at a 64 MB boundary that is 64 MB long, or followed at once by its reserved (`---p`) rest up to
 * the next boundary; V8's pages in its reservations are not followed so.
 */
function mallocResident(): number {
  const maps: Array<{ start: number; end: number; perms: string; name: string; rss: number }> = [];
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const map = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map !== null)
      maps.push({
        start: Number.parseInt(map[1]!, 16),
        end: Number.parseInt(map[2]!, 16),
        perms: map[3]!,
        name: map[4]!,
        rss: 0,
      });
    else if (line.startsWith('Rss:') && maps.length > 0)
      maps[maps.length - 1]!.rss = Number(line.split(/\s+/)[1]) * 1024;
  }
  let bytes = 0;
  for (const [i, m] of maps.entries()) {
    const next = maps[i + 1];
    const arena =
      m.name === '' &&
      m.start % ARENA_BYTES === 0 &&
      (m.end - m.start === ARENA_BYTES ||
        (next !== undefined &&
          next.start === m.end &&
          next.perms.startsWith('---') &&
          next.end - m.start === ARENA_BYTES));
    if (arena || m.name === '[heap]') bytes += m.rss;
  }
  return bytes;
}
