import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from './cpu.js';

const feeder = fileURLToPath(new URL('./feeder.js', import.meta.url));

/** What a feeder run reports, with the CPU the watched processes used over its timed part. */
export interface Fed {
  readonly windows: number;
  /** Windows of the untimed warm-up rounds. */
  readonly warmupWindows: number;
  readonly seconds: number;
  /** CPU seconds of each watched pid over the timed part (a pid gone meanwhile counts to its last reading). */
  readonly cpu: readonly number[];
  readonly feederCpu: number;
}

/**
 * Runs feeder.js with `args` (see there) in its own process; `onTimed` is called when its clock
 * starts; `cpus` pins it to those cores (taskset's list). `done` resolves with its report when it has finished; `child` can be killed to stop it early.
 */
export function runFeeder(
  args: readonly string[],
  pids: readonly number[],
  onTimed: () => void = () => undefined,
  cpus?: string,
): { done: Promise<Fed>; child: ChildProcess } {
  const command = [process.execPath, feeder, ...args];
  // `taskset -c CPUS` execs node in place: the child's pid is the feeder's.
  const child =
    cpus === undefined
      ? spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', cpus, ...command], { stdio: ['ignore', 'pipe', 'inherit'] });
  const cpuOf = (pid: number, last: number): number => {
    try {
      return processCpuSeconds(pid);
    } catch {
      return last;
    }
  };
  const done = new Promise<Fed>((resolve, reject) => {
    let out = '';
    let start: number[] | undefined;
    let feeder0 = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('timed\n') && start === undefined) {
        start = pids.map((p) => cpuOf(p, 0));
        feeder0 = processCpuSeconds(child.pid!);
        onTimed();
      }
      if (/\n\{.*\}\n$/.test(out)) {
        const r = JSON.parse(out.trim().split('\n').pop()!) as {
          windows: number;
          warmupWindows: number;
          seconds: number;
        };
        resolve({
          ...r,
          cpu: pids.map((p, i) => cpuOf(p, start![i]!) - start![i]!),
          feederCpu: processCpuSeconds(child.pid!) - feeder0,
        });
      }
    });
    child.on('exit', (code, signal) =>
      code === 0 || signal !== null ? undefined : reject(new Error(`feeder ${args[0]} exited with ${code}`)),
    );
  });
  return { done, child };
}
