// File transfers: upload_file and download_file of 100 MB through the built server over MCP stdio, next to
// OpenSSH's scp of the same file to the same sshd in the same run (scp speaks SFTP since OpenSSH 9.0).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SshdHarness } from '../test/harness/sshd.js';
import type { McpProcess } from './mcp.js';
import { type Case, check, measure, timed } from './measure.js';
import type { Ratio, Row } from './report.js';
import { p50 } from './report.js';

export const FILE_BYTES = 100 * 1024 * 1024;
const run = promisify(execFile);

const sha256 = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

export async function fileBenchmarks(
  rows: Row[],
  o: { quick: boolean; server: McpProcess; sshd: SshdHarness; defer: (fn: () => unknown) => void },
): Promise<Ratio[]> {
  const { server, sshd } = o;
  // In the client home: without a config file the server allows local paths under the home only.
  const local = path.join(sshd.clientHome, 'bench-100m.bin');
  const back = path.join(sshd.clientHome, 'bench-100m.back');
  const scpBack = path.join(sshd.clientHome, 'bench-100m.scp');
  const tiny = path.join(sshd.clientHome, 'bench-1b.bin');
  await writeFile(local, randomBytes(FILE_BYTES));
  await writeFile(tiny, 'x');
  o.defer(() => Promise.all([local, back, scpBack, tiny].map((f) => rm(f, { force: true }))));
  const scpArgs = [
    '-q',
    '-F',
    '/dev/null',
    '-i',
    sshd.userKeyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    `UserKnownHostsFile=${path.join(sshd.dir, 'bench-known-hosts')}`,
    '-P',
    String(sshd.port),
  ];
  const remote = (name: string) => `${sshd.user}@${sshd.host}:${name}`;
  const scp = (from: string, to: string) => run('scp', [...scpArgs, from, to]);
  const transfer = async (tool: string, args: Record<string, unknown>) => {
    const r = await server.call(tool, { host: 'testhost', ...args }, 120_000);
    const s = r.structuredContent as { bytes?: number } | undefined;
    check(s?.bytes === FILE_BYTES, tool, s);
  };
  const cases: Case[] = [
    {
      key: 'upload',
      label: 'upload_file 100 MB',
      n: 7,
      warmup: 1,
      run: () => timed(() => transfer('upload_file', { local_path: local, remote_path: '~/bench-100m.bin' })),
    },
    {
      key: 'scpUp',
      label: 'scp 100 MB to the host (new connection each)',
      n: 7,
      warmup: 1,
      run: () => timed(() => scp(local, remote('bench-scp.bin'))),
    },
    {
      key: 'download',
      label: 'download_file 100 MB',
      n: 7,
      warmup: 1,
      run: () =>
        timed(() => transfer('download_file', { local_path: back, remote_path: '~/bench-100m.bin' })),
    },
    {
      key: 'scpDown',
      label: 'scp 100 MB from the host (new connection each)',
      n: 7,
      warmup: 1,
      run: () => timed(() => scp(remote('bench-scp.bin'), scpBack)),
    },
    {
      key: 'scpTiny',
      label: 'scp 1 byte: its connection cost (info)',
      n: 7,
      warmup: 1,
      run: () => timed(() => scp(tiny, remote('bench-1b.bin'))),
    },
  ];
  await measure(rows, cases, 240_000, o.quick);
  const want = await sha256(local);
  for (const [what, file] of [
    ['download_file', back],
    ['scp', scpBack],
    ['upload_file', path.join(sshd.home, 'bench-100m.bin')],
  ] as const) {
    const got = await sha256(file);
    check(got === want, `${what} checksum`, got);
  }
  const at = (key: string) => p50(rows.find((r) => r.key === key));
  const mbps = (key: string) => FILE_BYTES / 1e6 / (at(key) / 1000);
  return [
    {
      label: 'upload_file / scp (time; <= 1.25 is >= 0.8x throughput)',
      unit: 'x',
      value: at('upload') / at('scpUp'),
      formula: 'upload p50 / scp up p50',
      target: 1.25,
    },
    {
      label: 'download_file / scp (time)',
      unit: 'x',
      value: at('download') / at('scpDown'),
      formula: 'download p50 / scp down p50',
      target: 1.25,
    },
    {
      label: 'upload_file throughput (info)',
      unit: 'MB/s',
      value: mbps('upload'),
      formula: '104.9 MB / upload p50',
    },
    {
      label: 'scp up throughput (info)',
      unit: 'MB/s',
      value: mbps('scpUp'),
      formula: '104.9 MB / scp up p50',
    },
    {
      label: 'download_file throughput (info)',
      unit: 'MB/s',
      value: mbps('download'),
      formula: '104.9 MB / download p50',
    },
    {
      label: 'scp down throughput (info)',
      unit: 'MB/s',
      value: mbps('scpDown'),
      formula: '104.9 MB / scp down p50',
    },
    {
      label: 'upload_file / (scp - scp of 1 byte) (time, info)',
      unit: 'x',
      value: at('upload') / (at('scpUp') - at('scpTiny')),
      formula: 'upload p50 / (scp up p50 - scp 1 byte p50)',
    },
    {
      label: 'download_file / (scp - scp of 1 byte) (time, info)',
      unit: 'x',
      value: at('download') / (at('scpDown') - at('scpTiny')),
      formula: 'download p50 / (scp down p50 - scp 1 byte p50)',
    },
  ];
}
