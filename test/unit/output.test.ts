import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonEncodedBytes, shapeOutput } from '../../src/expect/output.js';
import { OutputStore } from '../../src/expect/output-store.js';
import { cleanTerminalText, TerminalCleaner } from '../../src/expect/terminal.js';

/** The runner's in-memory collector: an output store with no spill file. */
const collector = (capBytes: number) => new OutputStore({ memoryBytes: capBytes, spillBytes: 0 });

describe('in-memory output store', () => {
  it('keeps everything under the cap', () => {
    const c = collector(100);
    c.push('hello ');
    c.push('world');
    assert.deepEqual(c.finish(), { head: 'hello world', tail: '', omittedBytes: 0, totalBytes: 11 });
  });

  it('keeps head and tail of a long stream and counts the rest exactly', () => {
    const c = collector(10);
    for (let i = 0; i < 100; i++) c.push(String(i % 10));
    const out = c.finish();
    assert.equal(out.head, '01234');
    assert.equal(out.tail, '56789');
    assert.equal(out.totalBytes, 100);
    assert.equal(out.omittedBytes, 90);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const c = collector(100);
    c.push('é€');
    assert.equal(c.finish().totalBytes, 5);
  });
});

describe('cleanTerminalText', () => {
  it('removes colours, cursor moves, OSC titles and bracketed paste, and CRLF', () => {
    const raw = '\x1b[?2004h\x1b]0;title\x07\x1b[1;31mred\x1b[0m\r\nline\x1b[K\r\n\x1b[?2004l';
    assert.equal(cleanTerminalText(raw), 'red\nline\n');
  });

  it('removes a pager erasing itself with backspaces', () => {
    assert.equal(cleanTerminalText('line1\n\x08\x08\x08\x08      \x08\x08\x08\x08line2'), 'line1\nline2');
  });

  it('gives the same text chunk by chunk as in one piece, however the chunks are cut', () => {
    const raw = 'a\x1b[31mred\x1b[0m\r\nb\x1b]0;t\x07c\r\n';
    for (let cut = 1; cut < raw.length; cut++) {
      const cleaner = new TerminalCleaner();
      const pieces = cleaner.push(raw.slice(0, cut)) + cleaner.push(raw.slice(cut)) + cleaner.flush();
      assert.equal(pieces, 'ared\nbc\n', `cut at ${cut}`);
    }
  });

  it('leaves a lone CR that is not a line end', () => {
    assert.equal(cleanTerminalText('50%\r100%\n'), '50%\r100%\n');
  });
});

describe('shapeOutput', () => {
  const captured = (head: string, tail = '', omittedBytes = 0) => ({
    head,
    tail,
    omittedBytes,
    totalBytes: Buffer.byteLength(head) + Buffer.byteLength(tail) + omittedBytes,
  });

  it('returns short output whole', () => {
    assert.deepEqual(shapeOutput(captured('abc\n'), 1000), {
      output: 'abc\n',
      truncated: false,
      omittedBytes: 0,
    });
  });

  it('keeps head and tail past the limit and says how much is left out', () => {
    const shaped = shapeOutput(captured('a'.repeat(5000)), 1000);
    assert.equal(shaped.truncated, true);
    const m = /^(a+)\n\[\.\.\. (\d+) of 5000 bytes left out here \.\.\.\]\n(a+)$/.exec(shaped.output);
    assert.ok(m, shaped.output);
    assert.equal(Number(m[2]), shaped.omittedBytes);
    assert.equal((m[1]?.length ?? 0) + (m[3]?.length ?? 0) + shaped.omittedBytes, 5000);
    assert.ok(JSON.stringify(shaped.output).length <= 1000);
  });

  it('accounts for bytes the collector already dropped', () => {
    const shaped = shapeOutput(captured('head', 'tail', 1_000_000), 1000);
    assert.equal(shaped.omittedBytes, 1_000_000);
    assert.match(shaped.output, /^head\n\[\.\.\. 1000000 of 1000008 bytes/);
  });

  it('stays within the limit once JSON-encoded, even for control characters', () => {
    const binary = '\x01'.repeat(100_000);
    const shaped = shapeOutput(captured(binary), 10_000);
    assert.equal(shaped.truncated, true);
    assert.ok(JSON.stringify(shaped.output).length <= 10_000, `${JSON.stringify(shaped.output).length}`);
    assert.ok(jsonEncodedBytes(binary) >= JSON.stringify(binary).length - 2);
  });
});
