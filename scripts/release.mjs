#!/usr/bin/env node
// npm run release [-- --out DIR] [agent] [cloud]
//
// Builds what a Raspberry Pi (or any Linux machine with Node.js >= 20.11) installs without npm,
// the compiler or the network: release/tributary-agent-<version>.tar.gz and
// release/tributary-cloud-<version>.tar.gz. Each holds the compiled package, its production
// dependencies exactly as package-lock.json installed them, the systemd unit, sysusers file and
// example config from <package>/service/, and install.sh. Nothing in it is built for one CPU: the
// serial binding ships prebuilt binaries for x64, arm64, armv7 and armv6 and loads the one that
// fits at run time (its install script is not run; package.json's allowScripts says so).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const services = {
  agent: { name: 'tributary-agent', workspace: 'edge-agent' },
  cloud: { name: 'tributary-cloud', workspace: 'cloud-processor' },
};
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: join(root, 'release') } },
});
const wanted = positionals.length > 0 ? positionals : Object.keys(services);
for (const w of wanted)
  if (!(w in services))
    throw new Error(`unknown release ${JSON.stringify(w)} (one of ${Object.keys(services).join(', ')})`);

/** Compiled code without tests, declarations or source maps: what runs. */
const runtimeFile = (path) => !/\.test\.(js|d\.ts)$|\.d\.ts$|\.map$|\.tsbuildinfo$/.test(path);

/** Copies a workspace package (package.json, dist, and public: the dashboard's files) as npm would install it. */
function copyWorkspace(dir, to) {
  mkdirSync(to, { recursive: true });
  cpSync(join(dir, 'package.json'), join(to, 'package.json'));
  cpSync(join(dir, 'dist'), join(to, 'dist'), { recursive: true, filter: runtimeFile });
  if (existsSync(join(dir, 'public'))) cpSync(join(dir, 'public'), join(to, 'public'), { recursive: true });
}

/** The installed production dependencies of a workspace: paths under node_modules, nested ones included. */
function productionDependencies(workspace) {
  const pkg = JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')).name;
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', pkg], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((p) => p.startsWith(join(root, 'node_modules') + '/'))
    .map((p) => relative(root, p))
    .filter((p) => p !== join('node_modules', pkg) && !p.startsWith(join('node_modules', '@types') + '/'));
}

mkdirSync(values.out, { recursive: true });
for (const key of wanted) {
  const { name, workspace } = services[key];
  const version = JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')).version;
  const staging = mkdtempSync(join(tmpdir(), 'tributary-release-'));
  const top = join(staging, `${name}-${version}`);
  copyWorkspace(join(root, workspace), top);
  for (const dep of productionDependencies(workspace)) {
    const from = join(root, dep);
    const to = join(top, dep);
    // Workspace packages are links to their folder; the others are copied without their nested
    // node_modules, whose production packages npm ls lists on their own.
    if (dep.startsWith(join('node_modules', '@tributary') + '/')) copyWorkspace(realpathSync(from), to);
    else
      cpSync(from, to, {
        recursive: true,
        dereference: true,
        filter: (p) => relative(from, p).split('/')[0] !== 'node_modules',
      });
  }
  for (const file of readdirSync(join(root, workspace, 'service')))
    cpSync(join(root, workspace, 'service', file), join(top, 'service', file));
  cpSync(join(root, 'scripts', 'install-service.sh'), join(top, 'install.sh'));
  const tarball = join(values.out, `${name}-${version}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '-C', staging, `${name}-${version}`]);
  rmSync(staging, { recursive: true, force: true });
  process.stdout.write(`${tarball}\n`);
}
