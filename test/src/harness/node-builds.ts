import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The oldest Node.js the packages support: package.json's engines (">=20.11.0"). */
export function nodeFloor(): string {
  const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } })
    .engines.node;
  const version = /^>=(\d+\.\d+\.\d+)$/.exec(engines)?.[1];
  if (version === undefined) throw new Error(`engines.node ${JSON.stringify(engines)} is not of the form >=X.Y.Z`);
  return version;
}

/**
 * The path of the `node` binary of an official Node.js build, from npm's `node-linux-<arch>`
 * packages (the nodejs.org binaries), fetched once with `npm pack` into .tributary/node-builds;
 * or why it cannot be had (no network to the registry, no such version).
 */
export async function nodeBuild(
  arch: 'x64' | 'arm64' | 'armv7l',
  version: string,
): Promise<{ binary: string } | { unavailable: string }> {
  const cache = join(repoRoot, '.tributary', 'node-builds');
  const dir = join(cache, `node-linux-${arch}-${version}`);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return { binary };
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, 'fetch-'));
  try {
    const { stdout } = await run(
      'npm',
      ['pack', `node-linux-${arch}@${version}`, '--pack-destination', work, '--silent'],
      { cwd: work, timeout: 300_000 },
    );
    const tarball = join(work, stdout.trim().split('\n').at(-1)!);
    mkdirSync(join(work, 'x'));
    await run('tar', ['-xzf', tarball, '-C', join(work, 'x'), '--strip-components=1']);
    // Renamed into place whole, so a concurrent fetch or an interrupted one never leaves half a build.
    if (!existsSync(dir)) renameSync(join(work, 'x'), dir);
    return { binary };
  } catch (err) {
    return {
      unavailable: `node-linux-${arch}@${version} could not be fetched from the npm registry: ${(err as Error).message.split('\n')[0]}`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
