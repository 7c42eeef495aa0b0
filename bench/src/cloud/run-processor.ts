import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProcessorRunOptions, ProcessorRunResult } from './processor-run.js';

const processorRun = fileURLToPath(new URL('./processor-run.js', import.meta.url));

/**
 * Runs processor-run.js with `options` in its own process, with `nodeFlags` (Node and V8 flags),
 * pinned to `cpus` (taskset's list) when given, writing CPU profiles into `profileDir` when given;
 * resolves with its report, rejects when it exits otherwise than 0.
 */
export function runProcessor(
  options: ProcessorRunOptions,
  nodeFlags: readonly string[],
  cpus?: string,
  profileDir?: string,
): Promise<ProcessorRunResult> {
  const node = [
    process.execPath,
    // Only exposes gc(): the run calls it once at the end, to tell ArrayBuffers held from garbage.
    '--expose-gc',
    ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
    ...nodeFlags,
    processorRun,
    JSON.stringify(options),
  ];
  const child =
    cpus === undefined
      ? spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', cpus, ...node], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!) as ProcessorRunResult)
        : reject(new Error(`processor run exited with ${code}`)),
    );
  });
}
