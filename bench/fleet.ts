// `npm run bench:fleet [-- --hosts 100 --concurrency 20]`: execute_on_hosts over N hosts (first run: each
// connects; second run: sessions reused) next to a plain ssh2 script doing the same work at the same
// concurrency (connect, open a shell as the linux dialect does, run the command in it; then run it again on
// the open shells). Also time to the first host's result (the first progress notification) and the
// server's resident memory per idle session. The hosts are loopback addresses served by several sshds (one
// sshd listens on at most 16 addresses). Needs root, like the test harness. Prints a table.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import path from 'node:path';
import { Client } from 'ssh2';
import { type SshdHarness, startSshd } from '../test/harness/sshd.js';
import { startServer } from '../test/support/mcp-client.js';
import { DIALECT_SHELL, RawShell, withTimeout } from './raw-ssh.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const HOSTS = arg('hosts', 100);
const CONCURRENCY = arg('concurrency', 20);
const PER_SSHD = 15;
const COMMAND = 'echo hi';

interface Host {
  name: string;
  address: string;
  sshd: SshdHarness;
}

/** `n` tasks, `limit` at a time; resolves with the time the first finished and the total. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>) {
  const t0 = performance.now();
  let first = Number.NaN;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      await task(i);
      if (Number.isNaN(first)) first = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return { firstMs: first, totalMs: performance.now() - t0 };
}

function rawConnect(host: Host, key: Buffer): Promise<Client> {
  const sock = netConnect(host.sshd.port, host.address);
  sock.setNoDelay(true);
  const client = new Client();
  const ready = new Promise<Client>((resolve, reject) => {
    client.once('ready', () => resolve(client)).once('error', reject);
    client.connect({ sock, username: host.sshd.user, privateKey: key, readyTimeout: 20_000 });
  });
  return withTimeout(ready, 20_000, 'ssh connect', () => client.end());
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN);
}

async function main() {
  const sshds: SshdHarness[] = [];
  const hosts: Host[] = [];
  let dir: string | undefined;
  const clients: Client[] = [];
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const count = Math.ceil(HOSTS / PER_SSHD);
    for (let k = 0; k < count; k++) {
      const addresses = Array.from(
        { length: Math.min(PER_SSHD, HOSTS - k * PER_SSHD) },
        (_, i) => `127.77.${k + 1}.${i + 1}`,
      );
      // One at a time: useradd takes a lock, and the machine is shared.
      sshds.push(await startSshd({ listenAddresses: addresses, extraConfig: 'MaxStartups 100:30:200\n' }));
      const sshd = sshds[k] as SshdHarness;
      for (const address of addresses)
        hosts.push({ name: `b${String(hosts.length + 1).padStart(3, '0')}`, address, sshd });
    }

    // The floor: plain ssh2, the same shell and marker protocol as the linux dialect.
    const keys = new Map(sshds.map((s) => [s, readFileSync(s.userKeyPath)]));
    const shells: RawShell[] = new Array(HOSTS);
    const rawFirst = await pool(HOSTS, CONCURRENCY, async (i) => {
      const host = hosts[i] as Host;
      const client = await rawConnect(host, keys.get(host.sshd) as Buffer);
      clients.push(client);
      const shell = await RawShell.open(client, DIALECT_SHELL);
      shells[i] = shell;
      if ((await shell.run(COMMAND)).trim() !== 'hi') throw new Error(`raw: ${host.name}`);
    });
    const rawAgain = await pool(HOSTS, CONCURRENCY, async (i) => {
      if ((await (shells[i] as RawShell).run(COMMAND)).trim() !== 'hi') throw new Error('raw again');
    });
    for (const shell of shells) shell?.close();
    for (const client of clients) client.end();

    // The server, with the same concurrency for connecting as for running.
    const first = sshds[0] as SshdHarness;
    dir = path.join(first.dir, 'fleet-bench');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'defaults:\n  dialect: linux\n  host_key: off',
        `limits:\n  max_connecting: ${CONCURRENCY}\n  max_fanout_concurrency: ${Math.max(100, CONCURRENCY)}`,
        'hosts:',
        ...hosts.map(
          (h) =>
            `  ${h.name}:\n    host: ${h.address}\n    port: ${h.sshd.port}\n    user: ${h.sshd.user}\n    key: ${h.sshd.userKeyPath}`,
        ),
        '',
      ].join('\n'),
    );
    server = await startServer(first.clientHome, { args: ['--config', config, '--tools', 'all'] });
    const pid = server.pid as number;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssBefore = rssKb(pid);
    const fanout = async () => {
      const t0 = performance.now();
      let firstMs = Number.NaN;
      const result = await (server as NonNullable<typeof server>).client.callTool(
        {
          name: 'execute_on_hosts',
          arguments: { targets: ['b*'], command: COMMAND, concurrency: CONCURRENCY },
        },
        undefined,
        {
          timeout: 120_000,
          onprogress: () => {
            if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
          },
        },
      );
      let s = result.structuredContent as { status: string; counts: { ok: number } };
      // Past max_wait (50 s) the fan-out answers "running" and goes on: follow it to the end.
      for (let i = 0; i < 20 && s.status === 'running'; i++) {
        const more = await (server as NonNullable<typeof server>).client.callTool(
          { name: 'get_fanout_status', arguments: { wait: 50 } },
          undefined,
          { timeout: 120_000 },
        );
        s = more.structuredContent as typeof s;
      }
      const totalMs = performance.now() - t0;
      if (s.status !== 'completed' || s.counts.ok !== HOSTS)
        throw new Error(JSON.stringify(s).slice(0, 2000));
      return { firstMs, totalMs, size: JSON.stringify(result).length };
    };
    const mcpFirst = await fanout();
    const mcpAgain = await fanout();
    // Idle sessions: let the young generation settle, as the soak's memory phase does.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssAfter = rssKb(pid);

    const ms = (n: number) => `${Math.round(n)} ms`;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(
      `\nFan-out of "${COMMAND}" over ${HOSTS} hosts (${sshds.length} sshds), ${CONCURRENCY} at a time`,
    );
    console.log('| run | execute_on_hosts | plain ssh2 | ratio | first result (server / ssh2) |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(
      `| first (connect) | ${ms(mcpFirst.totalMs)} | ${ms(rawFirst.totalMs)} | ${ratio(mcpFirst.totalMs, rawFirst.totalMs)} | ${ms(mcpFirst.firstMs)} / ${ms(rawFirst.firstMs)} |`,
    );
    console.log(
      `| second (reuse) | ${ms(mcpAgain.totalMs)} | ${ms(rawAgain.totalMs)} | ${ratio(mcpAgain.totalMs, rawAgain.totalMs)} | ${ms(mcpAgain.firstMs)} / ${ms(rawAgain.firstMs)} |`,
    );
    console.log(
      `Server RSS ${rssBefore} KB before, ${rssAfter} KB with ${HOSTS} idle sessions: ${Math.round((rssAfter - rssBefore) / HOSTS)} KB per session. Result ${mcpAgain.size} characters.`,
    );
  } finally {
    for (const client of clients) client.end();
    await server?.close().catch(() => {});
    for (const sshd of sshds) await sshd.stop().catch(() => {});
  }
}

await main();
