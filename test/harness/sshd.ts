// Real-OpenSSH test harness: a throwaway sshd on 127.0.0.1 with a dedicated, freshly created user.
// Needs root (useradd, chpasswd, sudoers.d) and Debian's openssh-server (`node scripts/ensure-sshd.mjs`).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const SSHD = '/usr/sbin/sshd';
const HOST = '127.0.0.1';
const BIND_TRIES = 5;
const READY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

export interface SshdOptions {
  /** PasswordAuthentication (default true). */
  passwordAuth?: boolean;
  /**
   * KbdInteractiveAuthentication (default true). sshd runs with UsePAM no, and without PAM Linux OpenSSH
   * has no keyboard-interactive device, so the method is usually not offered even when enabled.
   */
  kbdInteractive?: boolean;
  /**
   * Extra sshd_config text. sshd keeps the FIRST value of most keywords, so everything before the first
   * `Match` line is placed before the harness defaults (and overrides them); `Match` blocks go last.
   * Do not redefine `Subsystem sftp` (sshd treats a duplicate subsystem as fatal).
   */
  extraConfig?: string;
  /**
   * Loopback addresses to listen on (default 127.0.0.1 only), all on the one port: a fleet of hosts from one
   * sshd. OpenSSH listens on at most 16 addresses.
   */
  listenAddresses?: string[];
}

export interface SshdHarness {
  host: '127.0.0.1';
  port: number;
  /** The addresses it listens on (listenAddresses, else [host]). */
  addresses: string[];
  /** Dedicated test user, created for this harness. */
  user: string;
  /** The user's home directory on the "remote" host (inside dir). */
  home: string;
  password: string;
  /** Unencrypted ed25519 private key authorised for the user. */
  userKeyPath: string;
  /** Second authorised ed25519 key, encrypted with keyPassphrase. */
  encryptedKeyPath: string;
  keyPassphrase: string;
  /** A key that is NOT in authorized_keys. */
  unauthorisedKeyPath: string;
  /** 'SHA256:...' of the host's ed25519 key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** 'ssh-ed25519 AAAA...' */
  hostKeyPublicLine: string;
  /**
   * Fresh HOME for the client under test: `.ssh/config` (Host `testhost` -> this server, user and userKeyPath,
   * IdentitiesOnly yes) and an EMPTY `.ssh/known_hosts`.
   */
  clientHome: string;
  dir: string;
  /** Kills sshd and every process of the user, deletes the user, its sudoers file and dir. Idempotent. */
  stop(): Promise<void>;
  /** sshd's log (-E). */
  logs(): string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` as the test user with the system `ssh` client, independently of the code under test. */
export function sshExec(h: SshdHarness, command: string, timeoutMs = 30_000): Promise<ExecResult> {
  const opts = ['IdentitiesOnly=yes', 'StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null'];
  opts.push('BatchMode=yes', 'LogLevel=ERROR', 'ConnectTimeout=5');
  const args = ['-F', '/dev/null', '-i', h.userKeyPath, ...opts.flatMap((o) => ['-o', o])];
  return run('ssh', [...args, '-p', String(h.port), `${h.user}@${HOST}`, command], { timeoutMs });
}

/** What stop() and the exit hook must clean up; filled in as startSshd progresses. */
interface Resources {
  dir: string;
  user?: string;
  uid?: number;
  sudoers?: string;
  sshd?: ChildProcess;
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdHarness> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The integration tests need root: they create a throwaway user (useradd, chpasswd, /etc/sudoers.d) ' +
        'and run their own sshd. Run them as root, e.g. `sudo npm test`.',
    );
  }
  if (!existsSync(SSHD)) {
    throw new Error(
      `${SSHD} not found. Run \`node scripts/ensure-sshd.mjs\` as root or \`apt-get install openssh-server\`.`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'mcp-sshd-'));
  // The user's home lives in here: sshd reads authorized_keys as the user, so it must be traversable.
  await chmod(dir, 0o755);
  const res: Resources = { dir };
  installExitHook();
  live.add(res);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= release(res);
    return stopping;
  };
  try {
    return await setUp(res, options, stop);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

async function setUp(res: Resources, options: SshdOptions, stop: () => Promise<void>): Promise<SshdHarness> {
  const { dir } = res;
  const password = randomBytes(12).toString('base64url');
  const keyPassphrase = randomBytes(12).toString('base64url');
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const userKeyPath = join(dir, 'id_user');
  const encryptedKeyPath = join(dir, 'id_encrypted');
  const unauthorisedKeyPath = join(dir, 'id_unauthorised');
  await Promise.all([
    keygen(hostKey, ''),
    keygen(userKeyPath, ''),
    keygen(encryptedKeyPath, keyPassphrase),
    keygen(unauthorisedKeyPath, ''),
  ]);
  const hostKeyFingerprint = (await check('ssh-keygen', ['-lf', `${hostKey}.pub`])).split(' ')[1] ?? '';
  const hostKeyPublicLine = (await readFile(`${hostKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');

  // User with a clean home: an empty skeleton, then empty rc files (our shells run `bash -l`).
  const user = `mcpt${randomLower(6)}`;
  const home = join(dir, 'home');
  const skel = join(dir, 'skel');
  await mkdir(skel);
  res.user = user; // before useradd: a failed attempt may still have created the user
  await check('useradd', ['-m', '-k', skel, '-d', home, '-s', '/bin/bash', '-U', user], { retries: 5 });
  const uid = Number(await check('id', ['-u', user]));
  const gid = Number(await check('id', ['-g', user]));
  res.uid = uid;
  await check('chpasswd', [], { input: `${user}:${password}\n`, retries: 5 });
  const authorized = await Promise.all(
    [userKeyPath, encryptedKeyPath].map((k) => readFile(`${k}.pub`, 'utf8')),
  );
  await writeOwned(join(home, '.bashrc'), '', 0o644, uid, gid);
  await writeOwned(join(home, '.profile'), '', 0o644, uid, gid);
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  await chown(join(home, '.ssh'), uid, gid);
  await writeOwned(join(home, '.ssh', 'authorized_keys'), authorized.join(''), 0o600, uid, gid);

  // sudo asks for the user's password (no NOPASSWD), for privilege-escalation tests.
  await mkdir('/etc/sudoers.d', { recursive: true, mode: 0o755 });
  res.sudoers = join('/etc/sudoers.d', user);
  await writeFile(res.sudoers, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 });
  await chmod(res.sudoers, 0o440);

  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // Debian's sshd refuses to start without it
  const log = join(dir, 'sshd.log');
  const logs = () => readText(log);
  const port = await launch(res, options, hostKey, log, user);

  const clientHome = join(dir, 'client-home');
  await mkdir(join(clientHome, '.ssh'), { recursive: true, mode: 0o700 });
  const sshConfig = [
    'Host testhost',
    `  HostName ${HOST}`,
    `  Port ${port}`,
    `  User ${user}`,
    `  IdentityFile ${userKeyPath}`,
    '  IdentitiesOnly yes',
    '',
  ].join('\n');
  await writeFile(join(clientHome, '.ssh', 'config'), sshConfig, { mode: 0o600 });
  await writeFile(join(clientHome, '.ssh', 'known_hosts'), '', { mode: 0o600 });

  return {
    host: HOST,
    port,
    addresses: options.listenAddresses ?? [HOST],
    user,
    home,
    password,
    userKeyPath,
    encryptedKeyPath,
    keyPassphrase,
    unauthorisedKeyPath,
    hostKeyFingerprint,
    hostKeyPublicLine,
    clientHome,
    dir,
    stop,
    logs,
  };
}

/** Starts sshd on a free port; retries with another port if it lost the race for the one it was given. */
async function launch(res: Resources, o: SshdOptions, hostKey: string, log: string, user: string) {
  const extra = o.extraConfig ?? '';
  const matchAt = extra.search(/^\s*Match\s/im);
  const [extraHead, extraMatch] = matchAt < 0 ? [extra, ''] : [extra.slice(0, matchAt), extra.slice(matchAt)];
  const addresses = o.listenAddresses ?? [HOST];
  const first = addresses[0] ?? HOST;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(first);
    const config = [
      extraHead,
      ...addresses.map((address) => `ListenAddress ${address}:${port}`),
      `HostKey ${hostKey}`,
      `PidFile ${join(res.dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
      'PubkeyAuthentication yes',
      `PasswordAuthentication ${o.passwordAuth === false ? 'no' : 'yes'}`,
      `KbdInteractiveAuthentication ${o.kbdInteractive === false ? 'no' : 'yes'}`,
      'AuthorizedKeysFile .ssh/authorized_keys',
      `AllowUsers ${user}`,
      'AllowTcpForwarding yes',
      'PermitRootLogin no',
      // sshd takes the LAST MaxStartups, unlike most keywords: one given in extraConfig must stand alone.
      /^\s*MaxStartups\s/im.test(extraHead) ? '' : 'MaxStartups 100',
      'MaxSessions 50',
      'Subsystem sftp internal-sftp',
      extraMatch,
      '',
    ].join('\n');
    const configPath = join(res.dir, 'sshd_config');
    await writeFile(configPath, config, { mode: 0o600 });
    const logStart = readText(log).length;
    const sshd = spawn(SSHD, ['-D', '-f', configPath, '-E', log], { stdio: 'ignore' });
    sshd.unref(); // a forgotten stop() must not keep the test process alive; the exit hook cleans up
    res.sshd = sshd;
    let spawnError: Error | undefined;
    sshd.on('error', (e) => {
      spawnError = e;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const newLog = () => readText(log).slice(logStart);
    while (Date.now() < deadline) {
      const exited = sshd.exitCode !== null || sshd.signalCode !== null || spawnError !== undefined;
      if (exited) break;
      // The log line proves it is OUR sshd that owns the port, the banner that it accepts connections.
      if (
        addresses.every((address) => newLog().includes(`Server listening on ${address} port ${port}`)) &&
        (await hasBanner(first, port, deadline))
      ) {
        return port;
      }
      await delay(25);
    }
    killSync([sshd.pid]);
    const bindFailed = /Address already in use|Cannot bind any address/.test(newLog());
    if (bindFailed && attempt < BIND_TRIES) continue;
    const why =
      spawnError?.message ?? (sshd.exitCode !== null ? `exited with ${sshd.exitCode}` : 'not ready');
    throw new Error(
      `sshd on port ${port} failed to start (${why}, attempt ${attempt}). Log:\n${readText(log)}`,
    );
  }
}

/** A port nothing listens on at this moment (the system picks it; free again when this resolves). */
export function freePort(address = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Connects once and waits (at most 1 s, and not past deadline) for the `SSH-2.0-` identification line. */
function hasBanner(address: string, port: number, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, address);
    let seen = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), Math.max(1, Math.min(1_000, deadline - Date.now())));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      seen += d;
      if (seen.includes('SSH-2.0-')) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

async function release(res: Resources): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (killAll(res) > 0 && Date.now() < deadline) await delay(50);
  let error: Error | undefined;
  if (res.user) {
    // -f: a zombie left behind (pid 1 may not reap) must not block the removal. 6 = no such user.
    const r = await runRetry('userdel', ['-r', '-f', res.user], { ok: [0, 6, 12] });
    if (r.code !== 0 && r.code !== 6 && r.code !== 12) error = new Error(`userdel ${res.user}: ${r.stderr}`);
  }
  if (res.sudoers) await rm(res.sudoers, { force: true });
  await rm(res.dir, { recursive: true, force: true });
  live.delete(res);
  if (error) throw error;
}

// ---- exit hook: best-effort synchronous cleanup of harnesses that were never stopped ----

const live = new Set<Resources>();
let hookInstalled = false;

function installExitHook() {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const res of live) {
      for (let i = 0; i < 40 && killAll(res) > 0; i++) sleepSync(25);
      if (res.user) spawnSync('userdel', ['-r', '-f', res.user], { stdio: 'ignore', timeout: 5_000 });
      if (res.sudoers) rmSync(res.sudoers, { force: true });
      rmSync(res.dir, { recursive: true, force: true });
    }
  });
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---- processes, via /proc ----

interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  zombie: boolean;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may itself contain ') '.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(name),
        ppid: Number(ppid),
        uid: statSync(`/proc/${name}`).uid,
        zombie: state === 'Z',
      });
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/** SIGKILLs sshd with all its descendants and every process of the test user; returns how many were alive. */
function killAll(res: Resources): number {
  const procs = processes().filter((p) => !p.zombie);
  const targets = new Set<number>();
  const root = res.sshd;
  if (root?.pid !== undefined && root.exitCode === null && root.signalCode === null) {
    // Per-connection sshd processes call setsid(), so the process group is not enough: walk the tree.
    targets.add(root.pid);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of procs) {
        if (targets.has(p.ppid) && !targets.has(p.pid)) {
          targets.add(p.pid);
          grew = true;
        }
      }
    }
  }
  for (const p of procs) if (res.uid !== undefined && p.uid === res.uid) targets.add(p.pid);
  const alive = procs.filter((p) => targets.has(p.pid)).map((p) => p.pid);
  killSync(alive);
  return alive.length;
}

function killSync(pids: (number | undefined)[]) {
  for (const pid of pids) {
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// ---- small helpers ----

function run(
  cmd: string,
  args: string[],
  o: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { timeout: o.timeoutMs ?? 30_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // EPIPE if the command does not read its input
    child.stdin.end(o.input ?? '');
  });
}

/** Retries a bounded number of times: useradd/chpasswd/userdel fail while a parallel harness holds the lock. */
async function runRetry(
  cmd: string,
  args: string[],
  o: { input?: string; ok?: number[]; retries?: number } = {},
) {
  const ok = o.ok ?? [0];
  let r = await run(cmd, args, o);
  for (let i = 1; i < (o.retries ?? 5) && !ok.includes(r.code ?? -1); i++) {
    await delay(100 + Math.random() * 200);
    r = await run(cmd, args, o);
  }
  return r;
}

async function check(cmd: string, args: string[], o: { input?: string; retries?: number } = {}) {
  const r = await runRetry(cmd, args, { ...o, retries: o.retries ?? 1 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

function keygen(path: string, passphrase: string) {
  return check('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    passphrase,
    '-C',
    'mcp-ssh-session-test',
    '-f',
    path,
  ]);
}

async function writeOwned(path: string, data: string, mode: number, uid: number, gid: number) {
  await writeFile(path, data, { mode });
  await chown(path, uid, gid);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function randomLower(n: number): string {
  return Array.from(randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');
}
