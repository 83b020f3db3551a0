import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { AuditLog, type AuditRecord } from '../../src/audit/audit-log.js';
import { registerSecret } from '../../src/util/secrets.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-'));
  dirs.push(dir);
  return dir;
};

const record = (command: string): AuditRecord => ({
  time: new Date().toISOString(),
  host: 'core-sw1',
  session: 'admin@10.0.0.1:22',
  dialect: 'cisco-ios',
  command,
  policy: 'allowed',
  status: 'completed',
  exitCode: 0,
  durationMs: 1.5,
  bytesOut: 42,
});

it('creates the file and its folder private, and appends one JSON object per line in call order', async () => {
  const path = join(await tempDir(), 'nested', 'audit.jsonl');
  const audit = new AuditLog(path);
  await Promise.all(Array.from({ length: 50 }, (_, i) => audit.write(record(`show int ${i}`))));
  await audit.close();
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 50);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).command),
    Array.from({ length: 50 }, (_, i) => `show int ${i}`),
  );
});

it('tightens an existing file readable by others, and keeps what it held', async () => {
  const path = join(await tempDir(), 'audit.jsonl');
  await writeFile(path, '{"old":true}\n');
  await chmod(path, 0o644);
  const audit = new AuditLog(path);
  await audit.write(record('show version'));
  await audit.close();
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual((await readFile(path, 'utf8')).split('\n').filter(Boolean).length, 2);
});

it('masks every known secret in a record', async () => {
  registerSecret('Hunter2-audit');
  registerSecret('quo"te\\pass');
  const path = join(await tempDir(), 'audit.jsonl');
  const audit = new AuditLog(path);
  await audit.write({ ...record('echo Hunter2-audit'), error: 'bad password Hunter2-audit quo"te\\pass' });
  await audit.close();
  const text = await readFile(path, 'utf8');
  assert.ok(!text.includes('Hunter2-audit'), text);
  assert.ok(!JSON.parse(text).error.includes('quo"te'), 'a secret with a quote survived JSON escaping');
  assert.match(text, /echo \*{8}/);
});

it('a path it cannot write is reported on stderr, not thrown, and later records still try', async () => {
  const dir = await tempDir();
  const blocker = join(dir, 'file');
  await writeFile(blocker, '');
  const path = join(blocker, 'audit.jsonl'); // a folder under a regular file: ENOTDIR
  const audit = new AuditLog(path);
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof write;
  try {
    await audit.write(record('show clock'));
    await audit.write(record('show clock'));
    await audit.close();
  } finally {
    process.stderr.write = write;
  }
  const errors = lines.filter((l) => l.includes(`audit log ${path}`));
  assert.equal(errors.length, 2, lines.join(''));
});
