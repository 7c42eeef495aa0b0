import { existsSync } from 'node:fs';
import type { NodeRuntime } from './agent-rig.js';
import { nodeBuild, nodeFloor } from './node-builds.js';
import { which } from './which.js';

/** A Raspberry Pi OS flavour, as qemu-user-static and Debian's cross C libraries emulate it. */
export interface ArmTarget {
  readonly arch: 'arm64' | 'armv7l';
  readonly pi: string;
  /** npm's node-linux-<arch> version: arm64 the newest 20.x there, armv7l the newest there at all (20.11.0, the floor). */
  readonly nodeVersion: string;
  readonly qemu: string;
  /** Where libc6-<arch>-cross puts the dynamic loader and libraries (QEMU_LD_PREFIX). */
  readonly sysroot: string;
  readonly libraries: readonly string[];
}

export const armTargets: readonly ArmTarget[] = [
  {
    arch: 'arm64',
    pi: '64-bit Raspberry Pi OS',
    nodeVersion: '20.20.2',
    qemu: 'qemu-aarch64-static',
    sysroot: '/usr/aarch64-linux-gnu',
    libraries: ['lib/ld-linux-aarch64.so.1', 'lib/libstdc++.so.6'],
  },
  {
    arch: 'armv7l',
    pi: '32-bit Raspberry Pi OS',
    nodeVersion: nodeFloor(),
    qemu: 'qemu-arm-static',
    sysroot: '/usr/arm-linux-gnueabihf',
    libraries: ['lib/ld-linux-armhf.so.3', 'lib/libstdc++.so.6', 'lib/libatomic.so.1'],
  },
];

/**
 * How to start Node on `target` under user-mode emulation, or why it cannot be done here (each
 * reason names what to install; npm test's set-up installs them with apt-get where it can).
 */
export async function armRuntime(target: ArmTarget): Promise<NodeRuntime | { unavailable: string }> {
  if (process.arch !== 'x64')
    return { unavailable: `ARM is emulated on x86-64 hosts only (this one is ${process.arch})` };
  const qemu = which(target.qemu);
  if (qemu === undefined)
    return { unavailable: `${target.qemu} is not installed: sudo apt-get install qemu-user-static` };
  const missing = target.libraries.filter((l) => !existsSync(`${target.sysroot}/${l}`));
  if (missing.length > 0)
    return {
      unavailable: `${missing.join(', ')} missing under ${target.sysroot}: sudo apt-get install libc6-${target.arch === 'arm64' ? 'arm64' : 'armhf'}-cross libstdc++6-${target.arch === 'arm64' ? 'arm64' : 'armhf'}-cross${target.arch === 'armv7l' ? ' libatomic1-armhf-cross' : ''}`,
    };
  const build = await nodeBuild(target.arch, target.nodeVersion);
  if ('unavailable' in build) return build;
  return {
    label: `${target.arch} node v${target.nodeVersion} under ${target.qemu}`,
    command: qemu,
    args: [build.binary],
    env: { QEMU_LD_PREFIX: target.sysroot },
  };
}
