// get_command_status's line views of a kept output: a slice by lines, the last lines, and grep with
// context, read from the output store page by page (spilled to disk, or with parts dropped), within a
// budget, and with agent-written patterns that cannot stall the server.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OutputStore, type OutputStoreOptions } from '../../src/expect/output-store.js';
import { compileGrep, grepLines, sliceLines, tailLines } from '../../src/expect/output-view.js';
import { lineViewOf } from '../../src/server/command-view.js';

const stores: OutputStore[] = [];
after(async () => {
  await Promise.all(stores.map((s) => s.dispose()));
});

/** A store holding `text`, pushed in pieces of `piece` characters as a channel would (pausing for the disk). */
async function storeOf(text: string, options: Partial<OutputStoreOptions> = {}, piece = 4096) {
  const store = new OutputStore({ memoryBytes: 1024 * 1024, spillBytes: 1024 * 1024 * 1024, ...options });
  stores.push(store);
  for (let i = 0; i < text.length; i += piece) {
    store.push(text.slice(i, i + piece));
    await store.backlog();
  }
  store.finish();
  return store;
}

/** "line 1\n" ... "line n\n". */
const numbered = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${from + i}\n`).join('');

const BIG = { budget: 100_000 };

describe('sliceLines', () => {
  it('shows lines from a line on, with their numbers, byte offsets and where to read on', async () => {
    const text = numbered(1000);
    const view = await sliceLines(await storeOf(text), 10, 5, BIG);
    assert.equal(view.output, 'line 10\nline 11\nline 12\nline 13\nline 14\n');
    assert.deepEqual([view.fromLine, view.toLine, view.totalLines], [10, 14, 1000]);
    assert.equal(view.offset, text.indexOf('line 10\n'));
    assert.equal(view.nextOffset, text.indexOf('line 15\n'));
    assert.deepEqual(view.notes, ['read on with from_line=15']);
  });

  it('shows as many lines as fit when no count is given, and counts a last line without a line feed', async () => {
    const view = await sliceLines(await storeOf('a\nb\nc'), 2, undefined, BIG);
    assert.equal(view.output, 'b\nc');
    assert.deepEqual([view.fromLine, view.toLine, view.totalLines], [2, 3, 3]);
    assert.deepEqual(view.notes, []);
    const cut = await sliceLines(await storeOf(numbered(100)), 1, undefined, { budget: 40 });
    assert.equal(cut.output, 'line 1\nline 2\nline 3\nline 4\nline 5\n', 'five lines take 40 bytes in JSON');
    assert.deepEqual(cut.notes, ['read on with from_line=6']);
  });

  it('says how many lines there are when asked past the end', async () => {
    const view = await sliceLines(await storeOf(numbered(3)), 7, 2, BIG);
    assert.equal(view.output, '');
    assert.deepEqual(view.notes, ['the output has 3 lines so far']);
  });

  it('finds a line deep in a spilled 5 MB output by its line marks', async () => {
    const text = numbered(500_000);
    const store = await storeOf(text, { memoryBytes: 64 * 1024 }, 50_000);
    assert.ok(store.lineMarks().length > 3, 'line marks about a megabyte apart');
    const view = await sliceLines(store, 431_000, 3, BIG);
    assert.equal(view.output, 'line 431000\nline 431001\nline 431002\n');
    assert.equal(view.offset, text.indexOf('line 431000\n'));
  });

  it('shows the start of one line longer than the result, and where it goes on', async () => {
    const view = await sliceLines(await storeOf(`short\n${'x'.repeat(500)}\nend\n`), 2, 1, { budget: 100 });
    assert.equal(view.output, 'x'.repeat(100));
    assert.equal(view.nextOffset, 6 + 100);
    assert.deepEqual(view.notes, [
      'line 2 is longer than this result holds',
      'line 2 goes on: read on with offset=106',
    ]);
  });
});

describe('tailLines', () => {
  it('shows the last lines with their numbers', async () => {
    const text = numbered(1000);
    const view = await tailLines(await storeOf(text), 3, BIG);
    assert.equal(view.output, 'line 998\nline 999\nline 1000\n');
    assert.deepEqual([view.fromLine, view.toLine, view.totalLines], [998, 1000, 1000]);
    assert.equal(view.offset, text.indexOf('line 998\n'));
    assert.equal(view.nextOffset, text.length);
    const open = await tailLines(await storeOf('a\nb\nprompt> '), 2, BIG);
    assert.equal(open.output, 'b\nprompt> ');
    assert.deepEqual([open.fromLine, open.toLine], [2, 3]);
  });

  it('shows fewer, whole, lines when they do not all fit, and the end of a last line that alone does not', async () => {
    const view = await tailLines(await storeOf(numbered(100)), 50, { budget: 40 });
    assert.equal(view.output, 'line 97\nline 98\nline 99\nline 100\n', 'four lines take 37 bytes in JSON');
    assert.deepEqual(view.notes, ['50 lines do not fit in this result: the last 4 are shown']);
    const long = await tailLines(await storeOf(`a\n${'x'.repeat(3_000_000)}y\n`), 1, { budget: 100 });
    assert.ok(long.output.endsWith('xy\n') && long.output.length <= 100, long.output);
    assert.deepEqual([long.fromLine, long.toLine], [2, 2]);
  });

  it('reads the whole output when it has fewer lines than asked', async () => {
    const view = await tailLines(await storeOf('one\ntwo\n'), 10, BIG);
    assert.equal(view.output, 'one\ntwo\n');
    assert.equal(view.fromLine, 1);
  });
});

describe('grepLines', () => {
  const log = [
    'boot ok',
    'disk warning: 80%',
    'net up',
    'ERROR: disk full',
    'retry',
    'retry',
    'retry',
    'retry',
    'Error: gave up',
    'done',
  ]
    .map((l) => `${l}\n`)
    .join('');
  const options = { offset: 0, context: 0, maxMatches: 50 };

  it('numbers matching lines as grep -n does, with context and -- between groups', async () => {
    const plain = await grepLines(await storeOf(log), compileGrep('(?i)error'), options, BIG);
    assert.equal(plain.output, '4:ERROR: disk full\n9:Error: gave up\n');
    assert.equal(plain.matches, 2);
    assert.equal(plain.nextOffset, log.length);
    const around = await grepLines(
      await storeOf(log),
      compileGrep('(?i)error'),
      { ...options, context: 1 },
      BIG,
    );
    assert.equal(
      around.output,
      '3-net up\n4:ERROR: disk full\n5-retry\n--\n8-retry\n9:Error: gave up\n10-done\n',
    );
    const joined = await grepLines(await storeOf(log), compileGrep('disk'), { ...options, context: 1 }, BIG);
    assert.equal(joined.output, '1-boot ok\n2:disk warning: 80%\n3-net up\n4:ERROR: disk full\n5-retry\n');
  });

  it('stops after max_matches, and goes on from nextOffset', async () => {
    const text = numbered(100);
    const store = await storeOf(text);
    const first = await grepLines(store, compileGrep('7$'), { ...options, maxMatches: 3 }, BIG);
    assert.equal(first.output, '7:line 7\n17:line 17\n27:line 27\n');
    assert.match(first.notes.join(), /stopped after 3 matching lines .*offset=\d+/);
    const next = await grepLines(
      store,
      compileGrep('7$'),
      { ...options, maxMatches: 3, offset: first.nextOffset },
      BIG,
    );
    assert.equal(next.output, '37:line 37\n47:line 47\n57:line 57\n');
  });

  it('says when nothing matches', async () => {
    const none = await grepLines(await storeOf(log), compileGrep('panic'), options, BIG);
    assert.equal(none.output, '');
    assert.equal(none.matches, 0);
    assert.deepEqual(none.notes, [`no line matches in bytes 0-${log.length}`]);
  });

  it('refuses what RE2 does not run, saying so', () => {
    assert.throws(() => compileGrep('(a)\\1'), /RE2 \(no lookaround or back-references\)/);
    assert.throws(() => compileGrep('(?=x)'), SyntaxError);
    assert.throws(() => compileGrep('[z-a]'), SyntaxError);
  });

  it('runs a backtracking killer in linear time on a long line', async () => {
    const line = `${'a'.repeat(200_000)}!\n`;
    const t0 = performance.now();
    const r = await grepLines(await storeOf(line.repeat(10)), compileGrep('(a+)+$'), options, BIG);
    assert.ok(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
    assert.equal(r.matches, 10, 'each long line matches in one of its pieces');
    assert.equal(r.output.split('\n')[0], `1:${'a'.repeat(2000)}... [${64 * 1024 - 2000} more characters]`);
  });

  it('searches at most so many bytes a call, and says where to go on', async () => {
    const store = await storeOf(numbered(100_000), {}, 65_536);
    const pattern = compileGrep('^line 99999$');
    const r = await grepLines(store, pattern, options, { budget: 100_000, scanBytes: 300_000 });
    assert.equal(r.matches, 0);
    assert.match(r.notes.join(), /searched bytes 0-\d+ of \d+ in this call .*grep on with offset=(\d+)/);
    assert.ok(r.nextOffset >= 300_000 && r.nextOffset < 310_000, `${r.nextOffset}`);
    const on = await grepLines(store, pattern, { ...options, offset: r.nextOffset }, BIG);
    assert.equal(on.output, '99999:line 99999\n');
  });

  it('numbers lines right after a part of the output that was not kept', async () => {
    const text = numbered(100_000);
    const store = await storeOf(text, { memoryBytes: 64 * 1024, spillBytes: 0 });
    const r = await grepLines(store, compileGrep('^line (12|99998)$'), options, BIG);
    assert.equal(r.output, '12:line 12\n99998:line 99998\n');
    assert.match(r.notes.join(), /bytes \d+-\d+ were not kept .*not searched/);
    const tail = await tailLines(store, 2, BIG);
    assert.equal(tail.output, 'line 99999\nline 100000\n');
    assert.deepEqual([tail.fromLine, tail.toLine], [99_999, 100_000]);
    const slice = await sliceLines(store, 99_990, 2, BIG);
    assert.equal(slice.output, 'line 99990\nline 99991\n');
  });
});

describe('lineViewOf', () => {
  it('takes one view at a time, with only its own parameters', () => {
    assert.equal(lineViewOf({}), undefined);
    assert.equal(lineViewOf({ offset: 5 }), undefined);
    assert.equal(lineViewOf({ from_line: 3, lines: 2 }), 'slice');
    assert.equal(lineViewOf({ tail: 3 }), 'tail');
    assert.equal(lineViewOf({ grep: 'x', offset: 9, context: 1, max_matches: 2 }), 'grep');
    assert.throws(
      () => lineViewOf({ tail: 3, grep: 'x' }),
      /give one of from_line, tail and grep, not tail and grep/,
    );
    assert.throws(() => lineViewOf({ lines: 3 }), /lines goes with from_line/);
    assert.throws(
      () => lineViewOf({ tail: 3, context: 1, max_matches: 2 }),
      /context and max_matches go with grep/,
    );
    assert.throws(() => lineViewOf({ tail: 3, offset: 10 }), /tail finds its own place: leave offset out/);
  });
});
