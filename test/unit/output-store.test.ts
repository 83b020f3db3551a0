import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CapturedOutput } from '../../src/expect/output.js';
import {
  chunkPoolSizes,
  type OutputPage,
  OutputStore,
  type OutputStoreOptions,
} from '../../src/expect/output-store.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'b', 'z', '0', ' ', '\n', '\t', '"', 'é', 'ß', '€', '中', '😀', '🎉'];

/** Text of about `chars` UTF-16 units: mostly ASCII, with 2-, 3- and 4-byte characters. */
function randomText(rng: () => number, chars: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    const r = rng();
    const c =
      r < 0.8 ? String.fromCharCode(32 + Math.floor(rng() * 95)) : (ALPHABET[Math.floor(rng() * 14)] ?? 'x');
    out.push(c);
    n += c.length;
  }
  return out.join('');
}

const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** A slice of `text` that does not cut a surrogate pair. */
function slice(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  if (a > 0 && isLow(text.charCodeAt(a))) a++;
  if (b < text.length && isLow(text.charCodeAt(b))) b--;
  return a < b ? text.slice(a, b) : '';
}

/** `text` in consecutive pieces of `size()` UTF-16 units, never cutting a surrogate pair. */
function split(text: string, size: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let j = Math.min(text.length, i + Math.max(1, size()));
    if (j < text.length && isLow(text.charCodeAt(j))) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

interface ReadResult {
  pages: OutputPage[];
  /** Stream bytes that came back, by position; gaps left as they are. */
  data: { from: number; bytes: Buffer }[];
  gaps: { from: number; to: number }[];
}

/** Reads from `offset` to the end, checking what every page promises. */
async function readAll(store: OutputStore, maxBytes: number, offset = 0): Promise<ReadResult> {
  const result: ReadResult = { pages: [], data: [], gaps: [] };
  let at = offset;
  for (;;) {
    const page = await store.read(at, maxBytes);
    result.pages.push(page);
    const bytes = Buffer.from(page.output, 'utf8');
    assert.ok(bytes.length <= maxBytes, `page at ${at}: ${bytes.length} > ${maxBytes}`);
    assert.ok(!page.output.includes('\ufffd'), `page at ${at} splits a character`);
    let dataFrom = page.offset;
    if (page.gap) {
      assert.equal(page.gap.from, page.offset, 'a gap starts its page');
      assert.ok(page.gap.to > page.gap.from);
      result.gaps.push(page.gap);
      dataFrom = page.gap.to;
    }
    assert.equal(bytes.length, page.nextOffset - dataFrom, `page at ${at}: size vs offsets`);
    if (bytes.length > 0) result.data.push({ from: dataFrom, bytes });
    assert.equal(page.complete, page.nextOffset === page.totalBytes);
    if (page.complete) return result;
    assert.ok(page.nextOffset > at, `no progress at ${at}`);
    at = page.nextOffset;
  }
}

/** Every byte read equals the input at its position; data and gaps tile [from, total) exactly. */
function checkAgainst(input: Buffer, read: ReadResult, from = 0): void {
  const spans = [
    ...read.data.map((d) => ({ from: d.from, to: d.from + d.bytes.length, bytes: d.bytes })),
    ...read.gaps.map((g) => ({ ...g, bytes: undefined })),
  ].sort((a, b) => a.from - b.from);
  let pos = from;
  for (const s of spans) {
    assert.equal(s.from, pos, `hole or overlap at ${pos}`);
    if (s.bytes)
      assert.ok(s.bytes.equals(input.subarray(s.from, s.to)), `bytes differ in [${s.from}, ${s.to})`);
    pos = s.to;
  }
  assert.equal(pos, input.length);
}

function joined(read: ReadResult): Buffer {
  return Buffer.concat(read.data.map((d) => d.bytes));
}

/** Stores are disposed after each test, passed or failed, so no spill file outlives it. */
const live = new Set<OutputStore>();
class Store extends OutputStore {
  constructor(options: OutputStoreOptions) {
    super(options);
    live.add(this);
  }
}
afterEach(async () => {
  await Promise.all([...live].map((s) => s.dispose()));
  live.clear();
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'output-store-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh folder for one store's spill folder. */
async function spillDir(): Promise<string> {
  return mkdtemp(join(dir, 'spill-'));
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('OutputStore paging', () => {
  it('pages 50 MB pushed in random pieces back byte for byte', async () => {
    const rng = prng(1);
    const corpus = randomText(rng, 1 * MIB);
    const store = new Store({
      memoryBytes: 4 * MIB,
      spillBytes: 1024 * MIB,
      spillDir: await spillDir(),
      // Room for all of it: this test is about paging; dropping under back-pressure is tested below.
      writeQueueBytes: 64 * MIB,
    });
    const hashIn = createHash('sha256');
    let sinceTick = 0;
    while (store.totalBytes < 50 * MIB) {
      const size = 1 + Math.floor(rng() * 64 * KIB);
      const from = Math.floor(rng() * (corpus.length - size));
      const piece = slice(corpus, from, from + size);
      store.push(piece);
      hashIn.update(piece, 'utf8');
      sinceTick += piece.length;
      if (sinceTick > 512 * KIB) {
        sinceTick = 0;
        await tick();
      }
    }
    await store.flush();
    const stats = store.stats;
    assert.equal(stats.droppedBytes, 0);
    assert.equal(stats.queuedBytes, 0);
    assert.ok(stats.spilledBytes > 40 * MIB, `spilled ${stats.spilledBytes}`);

    const hashOut = createHash('sha256');
    let offset = 0;
    let pages = 0;
    for (;;) {
      const page = await store.read(offset, MIB);
      assert.equal(page.offset, offset);
      assert.equal(page.gap, undefined);
      const bytes = Buffer.from(page.output, 'utf8');
      assert.ok(bytes.length <= MIB && (bytes.length > MIB - 4 || page.complete));
      assert.equal(bytes.length, page.nextOffset - offset);
      hashOut.update(bytes);
      pages++;
      offset = page.nextOffset;
      if (page.complete) break;
    }
    assert.equal(offset, store.totalBytes);
    assert.equal(hashOut.digest('hex'), hashIn.digest('hex'));
    assert.ok(pages >= 50);
    await store.dispose();
  });

  it('never splits é, € or an emoji at a page boundary, in head, file, queue and tail', async () => {
    const rng = prng(2);
    const text = randomText(rng, 3000);
    const input = Buffer.from(text, 'utf8');
    const store = new Store({
      memoryBytes: 600,
      spillBytes: MIB,
      spillDir: await spillDir(),
      chunkBytes: 16,
    });
    for (const piece of split(text, () => 1 + Math.floor(rng() * 40))) store.push(piece);
    assert.equal(store.totalBytes, input.length);
    // Some of the middle is still queued, some in the file after a flush: read both ways.
    for (const flushed of [false, true]) {
      if (flushed) await store.flush();
      for (const maxBytes of [4, 5, 6, 7, 9, 13, 64, 1000, 100_000]) {
        const read = await readAll(store, maxBytes);
        checkAgainst(input, read);
        assert.equal(joined(read).toString('utf8'), text);
      }
    }
    assert.ok(store.stats.spilledBytes > 0);
  });

  it('moves an offset inside a character up to the next character start', async () => {
    const text = 'é€😀'.repeat(400);
    const input = Buffer.from(text, 'utf8');
    const store = new Store({
      memoryBytes: 500,
      spillBytes: MIB,
      spillDir: await spillDir(),
      chunkBytes: 32,
    });
    for (const piece of split(text, () => 5)) store.push(piece);
    await store.flush();
    const isStart = (i: number) => i >= input.length || (input[i] as number) >> 6 !== 2;
    for (let offset = 0; offset <= input.length + 2; offset++) {
      const page = await store.read(offset, 8);
      let expected = Math.min(offset, input.length);
      while (!isStart(expected)) expected++;
      assert.equal(page.offset, expected, `offset ${offset}`);
      assert.equal(page.output, input.subarray(page.offset, page.nextOffset).toString('utf8'));
      assert.ok(page.nextOffset > page.offset || page.complete);
    }
    const past = await store.read(input.length + 100, 10);
    assert.deepEqual(past, {
      output: '',
      offset: input.length,
      nextOffset: input.length,
      totalBytes: input.length,
      complete: true,
    });
  });

  it('reads correctly while output is still arriving, including ranges that rolled out of the tail', async () => {
    const rng = prng(3);
    const corpus = randomText(rng, 256 * KIB);
    const store = new Store({
      memoryBytes: 64 * KIB,
      spillBytes: 1024 * MIB,
      spillDir: await spillDir(),
      chunkBytes: KIB,
      // Room for all of it: dropping under back-pressure is tested below.
      writeQueueBytes: 64 * MIB,
    });
    // Everything pushed, in a buffer that grows by doubling.
    let input = Buffer.alloc(MIB);
    let inputLength = 0;
    const push = (text: string) => {
      store.push(text);
      const n = Buffer.byteLength(text);
      if (inputLength + n > input.length) {
        const bigger = Buffer.alloc(input.length * 2);
        input.copy(bigger, 0, 0, inputLength);
        input = bigger;
      }
      input.write(text, inputLength, 'utf8');
      inputLength += n;
    };
    const inputNow = () => input.subarray(0, inputLength);
    // A reader following along page by page, as an agent polling get_command_status would.
    let followed = 0;
    const follower: Buffer[] = [];
    let checks = 0;
    let rolled = 0;
    for (let round = 0; round < 400; round++) {
      for (let k = 0; k < 8; k++) {
        const size = 1 + Math.floor(rng() * 4 * KIB);
        const from = Math.floor(rng() * (corpus.length - size));
        push(slice(corpus, from, from + size));
      }
      // Reads planned now, answered after more output arrived (the tail rolls meanwhile).
      const total = store.totalBytes;
      const tailOffset = Math.max(0, total - 20 * KIB);
      const reads = [
        store.read(Math.floor(rng() * total), 4 + Math.floor(rng() * 64 * KIB)),
        store.read(tailOffset, 16 * KIB),
        store.read(followed, 8 * KIB),
      ];
      for (let k = 0; k < 16; k++) push(slice(corpus, k * 1000, k * 1000 + 3000));
      const [random, tail, follow] = await Promise.all(reads);
      const bytes = inputNow();
      for (const page of [random, tail] as OutputPage[]) {
        assert.equal(page.gap, undefined);
        assert.equal(page.output, bytes.subarray(page.offset, page.nextOffset).toString('utf8'));
        checks++;
      }
      const f = follow as OutputPage;
      assert.equal(f.offset, followed);
      follower.push(Buffer.from(f.output, 'utf8'));
      followed = f.nextOffset;
      // The range read from the tail above has rolled out of it by now: read it again from the middle.
      const again = await store.read((tail as OutputPage).offset, 16 * KIB);
      assert.equal(again.output, (tail as OutputPage).output);
      if (store.totalBytes - (tail as OutputPage).nextOffset > 32 * KIB) rolled++;
      if (round % 4 === 0) await tick();
    }
    await store.flush();
    const rest = await readAll(store, 256 * KIB, followed);
    const bytes = inputNow();
    assert.ok(Buffer.concat([...follower, joined(rest)]).equals(bytes));
    assert.equal(store.stats.droppedBytes, 0);
    assert.ok(store.stats.spilledBytes > 10 * MIB, `spilled ${store.stats.spilledBytes}`);
    assert.ok(checks >= 800 && rolled > 300, `${checks} ${rolled}`);
    await store.dispose();
  });
});

describe('OutputStore gaps', () => {
  const ascii = (n: number) => {
    let s = '';
    for (let i = 0; s.length < n; i++) s += `${i},`;
    return s.slice(0, n);
  };

  it('reports the exact gap when spillBytes is smaller than the middle', async () => {
    const text = ascii(20_000);
    const input = Buffer.from(text);
    const store = new Store({
      memoryBytes: 1000,
      spillBytes: 3000,
      spillDir: await spillDir(),
      chunkBytes: 64,
    });
    for (let i = 0; i < text.length; i += 37) store.push(text.slice(i, i + 37));
    await store.flush();
    const read = await readAll(store, 700);
    checkAgainst(input, read);
    assert.equal(read.gaps.length, 1);
    const gap = read.gaps[0] as { from: number; to: number };
    // Head of 500 bytes, then exactly 3000 spilled bytes, then the gap up to the tail.
    assert.equal(gap.from, 3500);
    assert.ok(gap.to <= 20_000 - 500 && gap.to > 20_000 - 500 - 64, `gap.to ${gap.to}`);
    assert.deepEqual(store.stats, {
      memoryBytes: store.stats.memoryBytes,
      queuedBytes: 0,
      spilledBytes: 3000,
      droppedBytes: gap.to - gap.from,
    });
    // The bytes on both sides of the gap.
    const before = await store.read(3400, 1000);
    assert.equal(before.output, text.slice(3400, 3500));
    assert.equal(before.nextOffset, 3500);
    const across = await store.read(3500, 200);
    assert.deepEqual(across.gap, gap);
    assert.equal(across.output, text.slice(gap.to, gap.to + 200));
    assert.equal(across.nextOffset, gap.to + 200);
    // An offset inside the gap: the page starts with the rest of it.
    const inside = await store.read(10_000, 50);
    assert.deepEqual(inside.gap, { from: 10_000, to: gap.to });
    assert.equal(inside.output, text.slice(gap.to, gap.to + 50));
    // finish() is unchanged by the spill: head and tail of 500 bytes.
    assert.deepEqual(store.finish(), {
      head: text.slice(0, 500),
      tail: text.slice(-500),
      omittedBytes: 19_000,
      totalBytes: 20_000,
    });
    await store.dispose();
  });

  it('cuts the spill at a character boundary with multi-byte text', async () => {
    const text = '€😀é'.repeat(2000);
    const input = Buffer.from(text);
    const store = new Store({
      memoryBytes: 1000,
      spillBytes: 3001,
      spillDir: await spillDir(),
      chunkBytes: 64,
    });
    for (const piece of split(text, () => 7)) store.push(piece);
    await store.flush();
    const read = await readAll(store, 333);
    checkAgainst(input, read);
    assert.equal(read.gaps.length, 1);
    const gap = read.gaps[0] as { from: number; to: number };
    const spilled = store.stats.spilledBytes;
    assert.ok(spilled <= 3001 && spilled > 3001 - 4, `spilled ${spilled}`);
    const finished = store.finish();
    assert.equal(gap.from, Buffer.byteLength(finished.head) + spilled);
    assert.ok(text.startsWith(finished.head) && text.endsWith(finished.tail));
    await store.dispose();
  });

  it('drops the middle with an exact gap and no file when spillBytes is 0', async () => {
    const text = ascii(100_000);
    const folder = await spillDir();
    const store = new Store({ memoryBytes: 2000, spillBytes: 0, spillDir: folder, chunkBytes: 128 });
    for (let i = 0; i < text.length; i += 1000) store.push(text.slice(i, i + 1000));
    await store.flush();
    const read = await readAll(store, 4096);
    checkAgainst(Buffer.from(text), read);
    assert.equal(read.gaps.length, 1);
    const gap = read.gaps[0] as { from: number; to: number };
    assert.equal(gap.from, 1000);
    assert.ok(gap.to <= 99_000 && gap.to > 99_000 - 128);
    assert.equal(store.stats.droppedBytes, gap.to - gap.from);
    assert.equal(store.stats.spilledBytes, 0);
    assert.deepEqual(await readdir(folder), []);
    await store.dispose();
  });

  it('drops rather than queueing without bound when the disk lags, and resumes', async () => {
    const rng = prng(4);
    const text = randomText(rng, 400_000);
    const input = Buffer.from(text);
    const store = new Store({
      memoryBytes: 4096,
      spillBytes: MIB * 64,
      spillDir: await spillDir(),
      chunkBytes: 256,
      writeQueueBytes: 2048,
    });
    // Bursts pushed synchronously: the writer only gets to run between them.
    const pieces = split(text, () => 50);
    let peak = 0;
    for (let burst = 0; burst < 6; burst++) {
      const end = Math.ceil((pieces.length * (burst + 1)) / 6);
      for (let i = Math.ceil((pieces.length * burst) / 6); i < end; i++) {
        store.push(pieces[i] as string);
        peak = Math.max(peak, store.stats.memoryBytes);
        assert.ok(store.stats.queuedBytes <= 2048);
      }
      await store.flush();
    }
    assert.equal(store.totalBytes, input.length);
    assert.ok(peak <= 4096 + 2 * 256 + 2048, `peak ${peak}`);
    const read = await readAll(store, 1000);
    checkAgainst(input, read);
    // Each burst after the first spilled up to the queue's size, then dropped.
    assert.ok(read.gaps.length >= 5, `gaps ${read.gaps.length}`);
    const dropped = read.gaps.reduce((n, g) => n + g.to - g.from, 0);
    assert.equal(dropped, store.stats.droppedBytes);
    // Head, file, gaps and the tail in memory account for every byte.
    const headBytes = Buffer.byteLength(store.finish().head);
    const inTail = input.length - headBytes - store.stats.spilledBytes - dropped;
    assert.ok(inTail >= 2048 && inTail < 2048 + 256, `tail ${inTail}`);
    await store.dispose();
  });
});

describe('OutputStore spill file', () => {
  it('is private, made only when needed, and removed by dispose()', async () => {
    const folder = await spillDir();
    const store = new Store({ memoryBytes: 1000, spillBytes: MIB, spillDir: folder, chunkBytes: 64 });
    store.push('x'.repeat(1000));
    await store.flush();
    assert.deepEqual(await readdir(folder), [], 'nothing spilled yet');
    store.push('y'.repeat(10_000));
    await store.flush();
    const [sub, ...others] = await readdir(folder);
    assert.equal(others.length, 0);
    assert.match(sub ?? '', /^mcp-ssh-output-/);
    const subPath = join(folder, sub as string);
    assert.equal((await stat(subPath)).mode & 0o777, 0o700);
    const file = await stat(join(subPath, 'output'));
    assert.equal(file.mode & 0o777, 0o600);
    assert.equal(file.size, store.stats.spilledBytes);
    assert.ok(file.size > 9000);

    await store.dispose();
    assert.deepEqual(await readdir(folder), []);
    await assert.rejects(store.read(0, 100), /disposed/);
    // Still counted, never spilled again; finish() still answers from memory.
    store.push('z'.repeat(10_000));
    await store.flush();
    assert.deepEqual(await readdir(folder), []);
    assert.equal(store.totalBytes, 21_000);
    assert.equal(store.finish().tail, 'z'.repeat(500));
    await store.dispose();
  });

  it('lets a read under way finish before the file goes', async () => {
    const folder = await spillDir();
    const text = 'abcdefghij'.repeat(10_000);
    const store = new Store({ memoryBytes: 1000, spillBytes: MIB, spillDir: folder, chunkBytes: 64 });
    store.push(text);
    await store.flush();
    const reading = store.read(5000, 20_000);
    const disposing = store.dispose();
    const page = await reading;
    assert.equal(page.output, text.slice(5000, 25_000));
    await disposing;
    assert.deepEqual(await readdir(folder), []);
  });

  it('cleans up when disposed while the file is still being created', async () => {
    const folder = await spillDir();
    const store = new Store({ memoryBytes: 100, spillBytes: MIB, spillDir: folder, chunkBytes: 16 });
    store.push('q'.repeat(5000));
    await store.dispose();
    assert.deepEqual(await readdir(folder), []);
  });

  it('stops spilling, keeps what was written and reports why when the folder is unusable', async () => {
    const store = new Store({
      memoryBytes: 100,
      spillBytes: MIB,
      spillDir: join(dir, 'does', 'not', 'exist'),
      chunkBytes: 16,
    });
    const text = 'w'.repeat(5000);
    store.push(text);
    await store.flush();
    assert.match(store.stats.spillError ?? '', /ENOENT/);
    const read = await readAll(store, 1000);
    checkAgainst(Buffer.from(text), read);
    assert.equal(read.gaps.length, 1);
    assert.equal(store.stats.queuedBytes, 0);
    await store.dispose();
  });

  it('is removed when the process exits', async () => {
    const folder = await spillDir();
    const url = new URL('../../src/expect/output-store.ts', import.meta.url).href;
    const code = `
      import { readdirSync } from 'node:fs';
      import { OutputStore } from ${JSON.stringify(url)};
      const store = new OutputStore({ memoryBytes: 100, spillBytes: 1e6, spillDir: ${JSON.stringify(folder)} });
      store.push('x'.repeat(10000));
      await store.flush();
      console.log(readdirSync(${JSON.stringify(folder)}).length);
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), '1', 'the child had a spill folder');
    assert.deepEqual(await readdir(folder), []);
  });
});

/**
 * The model finish() is checked against: the first half of the cap and a rolling last half, counted in
 * UTF-16 units (as the runner's in-memory collector did before the store replaced it).
 */
class OutputCollector {
  private head = '';
  private headFull = false;
  private tail: string[] = [];
  private tailStart = 0;
  private tailLength = 0;
  private bytes = 0;
  private readonly headCap: number;
  private readonly tailCap: number;

  constructor(capBytes: number) {
    this.headCap = Math.ceil(capBytes / 2);
    this.tailCap = Math.floor(capBytes / 2);
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.bytes += Buffer.byteLength(text);
    if (!this.headFull) {
      const room = this.headCap - this.head.length;
      if (text.length <= room) {
        this.head += text;
        return;
      }
      this.head += text.slice(0, room);
      this.headFull = true;
      text = text.slice(room);
    }
    this.tail.push(text);
    this.tailLength += text.length;
    while (this.tailLength - (this.tail[this.tailStart]?.length ?? 0) >= this.tailCap) {
      this.tailLength -= this.tail[this.tailStart++]?.length ?? 0;
    }
  }

  finish(): CapturedOutput {
    let tail = this.tail.slice(this.tailStart).join('');
    if (tail.length > this.tailCap) tail = tail.slice(tail.length - this.tailCap);
    const keptBytes = Buffer.byteLength(this.head) + Buffer.byteLength(tail);
    return { head: this.head, tail, omittedBytes: this.bytes - keptBytes, totalBytes: this.bytes };
  }
}

describe('OutputStore.finish', () => {
  const compare = (cap: number, pieces: string[]) => {
    const collector = new OutputCollector(cap);
    const store = new Store({ memoryBytes: cap, spillBytes: 0, chunkBytes: 16 });
    for (const p of pieces) {
      collector.push(p);
      store.push(p);
    }
    return { expected: collector.finish(), actual: store.finish() };
  };
  it('gives what OutputCollector gives for the same input', () => {
    const rng = prng(5);
    // Not 1: OutputCollector(1) loops forever (its tail cap is 0).
    for (const cap of [2, 3, 10, 11, 100, 1000, 4096]) {
      for (const length of [0, 1, 5, cap - 1, cap, cap + 1, 3 * cap, 10_000]) {
        if (length < 0) continue;
        const text = randomText(rng, length).replace(/[^\x20-\x7e\n\t]/g, 'a');
        for (const size of [1, 7, 1000, 100_000]) {
          const { expected, actual } = compare(
            cap,
            split(text, () => size),
          );
          assert.deepEqual(actual, expected, `cap ${cap} length ${length} pieces of ${size}`);
        }
      }
    }
  });

  it('gives the same as OutputCollector for multi-byte text within the cap, and keeps bytes exact past it', () => {
    const rng = prng(6);
    for (const cap of [64, 1000, 10_000]) {
      const short = randomText(rng, cap / 4);
      const { expected, actual } = compare(
        cap,
        split(short, () => 13),
      );
      assert.deepEqual(actual, expected);

      // Past the cap OutputCollector counts UTF-16 units, the store UTF-8 bytes (and never cuts a character).
      const long = randomText(rng, cap * 5);
      const got = compare(
        cap,
        split(long, () => 13),
      ).actual;
      assert.ok(long.startsWith(got.head) && long.endsWith(got.tail));
      const headBytes = Buffer.byteLength(got.head);
      const tailBytes = Buffer.byteLength(got.tail);
      assert.ok(headBytes <= cap / 2 && headBytes > cap / 2 - 4, `head ${headBytes}`);
      assert.ok(tailBytes <= cap / 2 && tailBytes > cap / 2 - 4, `tail ${tailBytes}`);
      assert.equal(headBytes + tailBytes + got.omittedBytes, Buffer.byteLength(long));
      assert.equal(got.totalBytes, Buffer.byteLength(long));
    }
  });
});

describe('OutputStore limits', () => {
  it('rejects bad arguments', async () => {
    assert.throws(() => new Store({ memoryBytes: -1, spillBytes: 0 }), RangeError);
    assert.throws(() => new Store({ memoryBytes: 10, spillBytes: 0.5 }), RangeError);
    const store = new Store({ memoryBytes: 10, spillBytes: 0 });
    await assert.rejects(store.read(0, 3), RangeError);
    await assert.rejects(store.read(-1, 10), RangeError);
    await assert.rejects(store.read(0.5, 10), RangeError);
  });

  it('keeps memory bounded while 100 MB go through', async (t) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Twice, a turn apart: V8 frees buffers' memory on a background task after a collection.
    const used = async () => {
      gc();
      await tick();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const memoryBytes = 10 * MIB;
    const rng = prng(7);
    const pieces = Array.from({ length: 64 }, () => randomText(rng, 1 + Math.floor(rng() * 32 * KIB)));
    const baseline = await used();
    const store = new Store({ memoryBytes, spillBytes: 1024 * MIB, spillDir: await spillDir() });
    let peak = 0;
    let n = 0;
    for (let i = 0; store.totalBytes < 100 * MIB; i++) {
      store.push(pieces[i % 64] as string);
      peak = Math.max(peak, store.stats.memoryBytes);
      if (++n % 64 === 0) await tick();
    }
    const grown = (await used()) - baseline;
    await store.flush();
    const stats = store.stats;
    t.diagnostic(
      `100 MB through a ${memoryBytes / MIB} MiB store: heap+buffers grew ${(grown / MIB).toFixed(1)} MiB, ` +
        `internal peak ${(peak / MIB).toFixed(1)} MiB, spilled ${(stats.spilledBytes / MIB).toFixed(1)} MiB, ` +
        `dropped ${(stats.droppedBytes / MIB).toFixed(1)} MiB`,
    );
    // Head + tail + two chunks + the write queue (4 MiB), and nothing that grows with the stream.
    assert.ok(peak <= memoryBytes + 2 * 64 * KIB + 4 * MIB, `peak ${peak}`);
    assert.ok(grown < memoryBytes + 8 * MIB, `grew ${grown}`);
    await store.dispose();
  });
});

describe('OutputStore misc', () => {
  it('reads the whole output before anything spills, and after finish()', async () => {
    const store = new Store({ memoryBytes: 100, spillBytes: 0 });
    store.push('hello ');
    store.push('wörld');
    assert.deepEqual(await store.read(0, 100), {
      output: 'hello wörld',
      offset: 0,
      nextOffset: 12,
      totalBytes: 12,
      complete: true,
    });
    assert.deepEqual(store.finish(), { head: 'hello wörld', tail: '', omittedBytes: 0, totalBytes: 12 });
    store.push('!');
    assert.equal((await store.read(12, 100)).output, '!');
  });

  it('keeps a short finished output in its bytes, not its 16 KiB chunk, and takes more after all', async () => {
    const store = new Store({ memoryBytes: MIB, spillBytes: 0 });
    store.push('hi\n');
    assert.equal(store.stats.memoryBytes, 16 * KIB);
    assert.deepEqual(store.finish(), { head: 'hi\n', tail: '', omittedBytes: 0, totalBytes: 3 });
    assert.equal(store.stats.memoryBytes, 3);
    assert.equal((await store.read(0, 100)).output, 'hi\n');
    store.push('x'.repeat(20 * KIB));
    assert.equal(store.stats.memoryBytes, 32 * KIB);
    const page = await store.read(0, MIB);
    assert.equal(page.output, `hi\n${'x'.repeat(20 * KIB)}`);
    assert.equal(store.finish().totalBytes, 3 + 20 * KIB);
  });
});

describe('OutputStore archive', () => {
  it('moves a finished output to its file: no memory held, every byte and the ends read back the same', async () => {
    const rng = prng(7);
    const dir = await mkdtemp(join(tmpdir(), 'archive-'));
    const store = new OutputStore({ memoryBytes: 256 * KIB, spillBytes: 64 * MIB, spillDir: dir });
    let text = '';
    for (let i = 0; i < 400; i++) {
      const piece = randomText(rng, 1 + Math.floor(rng() * 4000));
      text += piece;
      store.push(piece);
    }
    const ends = store.finish();
    await store.flush();
    assert.ok(store.stats.memoryBytes > 0);
    await store.archive();
    assert.equal(store.archived, true);
    assert.equal(store.stats.memoryBytes, 0);
    assert.deepEqual(await store.capture(), ends);
    const bytes = Buffer.from(text);
    for (let i = 0; i < 30; i++) {
      const offset = Math.floor(rng() * bytes.length);
      const page = await store.read(offset, 4 + Math.floor(rng() * 100 * KIB));
      assert.equal(Buffer.from(page.output).equals(bytes.subarray(page.offset, page.nextOffset)), true);
    }
    let all = '';
    for (let offset = 0; ; ) {
      const page = await store.read(offset, 64 * KIB);
      all += page.output;
      offset = page.nextOffset;
      if (page.complete) break;
    }
    assert.equal(all, text);
    await store.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back to the chunk pool only whole chunks, not the trimmed copy of a short head', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archive-'));
    const before = new Set(chunkPoolSizes());
    for (let i = 1; i <= 40; i++) {
      const store = new OutputStore({ memoryBytes: 1 * MIB, spillBytes: MIB, spillDir: dir });
      store.push('x'.repeat(i));
      store.finish();
      await store.archive();
      await store.dispose();
    }
    // A 1 MiB store writes its head into 16 KiB chunks: no other size is new in the pool.
    const added = chunkPoolSizes().filter((size) => !before.has(size) && size !== 16 * KIB);
    assert.deepEqual(added, [], `pooled sizes ${chunkPoolSizes().join(', ')}`);
    await rm(dir, { recursive: true, force: true });
  });

  it('archives a short output that never left the head', async () => {
    const store = new OutputStore({ memoryBytes: 1 * MIB, spillBytes: MIB });
    store.push('short output\n');
    await store.archive();
    assert.equal((await store.read(0, 100)).output, 'short output\n');
    assert.equal((await store.capture()).head, 'short output\n');
    await store.dispose();
  });
});
