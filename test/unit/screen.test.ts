import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as nextTurn } from 'node:timers/promises';
import { ScreenMirror, type ScreenSnapshot } from '../../src/expect/screen.js';

const ESC = '\x1b';
const CSI = `${ESC}[`;

/** Write, then read the screen. */
async function render(text: string | Uint8Array, cols = 20, rows = 5): Promise<ScreenSnapshot> {
  const screen = new ScreenMirror(cols, rows);
  try {
    screen.write(text);
    return await screen.snapshot();
  } finally {
    screen.dispose();
  }
}

/** Lines in xterm's normal buffer (scrollback plus screen): a white-box look at the memory bound. */
function bufferedLines(screen: ScreenMirror): number {
  return (screen as unknown as { term: { buffer: { normal: { length: number } } } }).term.buffer.normal
    .length;
}

describe('ScreenMirror', () => {
  it('starts blank, with the size asked for', async () => {
    const screen = new ScreenMirror();
    const snap = await screen.snapshot();
    screen.dispose();
    assert.deepEqual(snap, {
      lines: Array(40).fill(''),
      cursor: { row: 0, col: 0 },
      cols: 120,
      rows: 40,
      alternateScreen: false,
      applicationCursor: false,
    });
  });

  it('renders text with CR/LF, a bare CR overwriting and a bare LF only moving down', async () => {
    const snap = await render('first\r\nsecond\r\nhello\rJ\r\na\nb');
    assert.deepEqual(snap.lines, ['first', 'second', 'Jello', 'a', ' b']);
    assert.deepEqual(snap.cursor, { row: 4, col: 2 });
  });

  it('wraps long lines and scrolls when the screen is full', async () => {
    assert.deepEqual((await render('0123456789abcdefghijKLM\r\nnext', 20, 5)).lines, [
      '0123456789abcdefghij',
      'KLM',
      'next',
      '',
      '',
    ]);
    const scrolled = await render('0123456789abcdefghijKLM\r\n2\r\n3\r\n4\r\n5\r\n6', 20, 5);
    // The wrapped first line (two rows) scrolled off the top.
    assert.deepEqual(scrolled.lines, ['2', '3', '4', '5', '6']);
    assert.deepEqual(scrolled.cursor, { row: 4, col: 1 });
  });

  it('moves the cursor with CSI H and relative moves', async () => {
    const snap = await render(`${CSI}3;5HX${CSI}1;1HY${CSI}5;20HZ${CSI}2;2H${CSI}2C${CSI}B!`, 20, 5);
    assert.deepEqual(snap.lines, ['Y', '', '   !X', '', '                   Z']);
    assert.deepEqual(snap.cursor, { row: 2, col: 4 });
  });

  it('keeps the cursor in the last column after writing it', async () => {
    const snap = await render(`${CSI}1;16Hworld`, 20, 3);
    assert.equal(snap.lines[0], '               world');
    assert.deepEqual(snap.cursor, { row: 0, col: 19 });
  });

  it('erases with CSI K (line) and CSI J (screen)', async () => {
    const fill = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd', 'eeeeeeeeee'].join('\r\n');
    assert.deepEqual(
      (await render(`${fill}${CSI}2;4H${CSI}K${CSI}3;4H${CSI}1K${CSI}4;4H${CSI}2K`, 10, 5)).lines,
      ['aaaaaaaaaa', 'bbb', '    cccccc', '', 'eeeeeeeeee'],
    );
    assert.deepEqual((await render(`${fill}${CSI}3;5H${CSI}J`, 10, 5)).lines, [
      'aaaaaaaaaa',
      'bbbbbbbbbb',
      'cccc',
      '',
      '',
    ]);
    assert.deepEqual((await render(`${fill}${CSI}3;5H${CSI}1J`, 10, 5)).lines, [
      '',
      '',
      '     ccccc',
      'dddddddddd',
      'eeeeeeeeee',
    ]);
    const cleared = await render(`${fill}${CSI}2J`, 10, 5);
    assert.deepEqual(cleared.lines, ['', '', '', '', '']);
    // ED 2 does not move the cursor.
    assert.deepEqual(cleared.cursor, { row: 4, col: 9 });
  });

  it('drops colours and other attributes', async () => {
    const snap = await render(
      `${CSI}31;1mred${CSI}0m plain ${CSI}38;5;200mx${CSI}48;2;1;2;3my${CSI}m ${CSI}4;7munder${CSI}24;27m`,
      40,
      2,
    );
    assert.deepEqual(snap.lines, ['red plain xy under', '']);
  });

  it('switches to the alternate screen and restores the normal one after', async () => {
    const screen = new ScreenMirror(20, 4);
    screen.write('$ vim notes\r\n');
    screen.write(`${CSI}?1049h${CSI}H${CSI}2Jline one\r\nline two${CSI}4;1H"notes" 2L`);
    const inside = await screen.snapshot();
    assert.equal(inside.alternateScreen, true);
    assert.deepEqual(inside.lines, ['line one', 'line two', '', '"notes" 2L']);
    screen.write(`${CSI}2J${CSI}H${CSI}?1049l`);
    const after = await screen.snapshot();
    screen.dispose();
    assert.equal(after.alternateScreen, false);
    assert.deepEqual(after.lines, ['$ vim notes', '', '', '']);
    // 1049 also saves and restores the cursor.
    assert.deepEqual(after.cursor, { row: 1, col: 0 });
  });

  it('also knows the older alternate screen modes 47 and 1047', async () => {
    assert.equal((await render(`${CSI}?47h`)).alternateScreen, true);
    assert.equal((await render(`${CSI}?1047h`)).alternateScreen, true);
    assert.equal((await render(`${CSI}?1047h${CSI}?1047l`)).alternateScreen, false);
  });

  it('counts wide characters as two columns', async () => {
    const snap = await render('中文ab\r\n日本語', 10, 3);
    assert.deepEqual(snap.lines, ['中文ab', '日本語', '']);
    assert.deepEqual(snap.cursor, { row: 1, col: 6 });
    // A wide character that does not fit in the last column wraps whole.
    const wrapped = await render('abcd中', 5, 3);
    assert.deepEqual(wrapped.lines, ['abcd', '中', '']);
    // Text after a wide character lands where a terminal would draw it.
    const placed = await render(`中${CSI}1;3Hx${CSI}1;5Hy`, 10, 1);
    assert.deepEqual(placed.lines, ['中x y']);
  });

  it('decodes UTF-8 split across writes', async () => {
    const screen = new ScreenMirror(10, 2);
    const bytes = Buffer.from('é中🎉', 'utf8');
    for (let i = 0; i < bytes.length; i++) screen.write(bytes.subarray(i, i + 1));
    const snap = await screen.snapshot();
    screen.dispose();
    assert.equal(snap.lines[0], 'é中🎉');
  });

  it('shows only the last frame of a top-like full redraw', async () => {
    const screen = new ScreenMirror(40, 6);
    screen.write(`${CSI}?1049h${CSI}?1h${ESC}=${CSI}?25l`);
    const frame = (n: number, procs: string[]) =>
      `${CSI}H` +
      [`top - 10:00:0${n} up 1 day`, `Tasks: ${procs.length} total`, '  PID USER  %CPU COMMAND']
        .concat(procs)
        .map((line) => `${line}${CSI}K`)
        .join('\r\n') +
      `${CSI}J`;
    screen.write(
      frame(1, ['    1 root   9.0 systemd', '  200 www   50.5 nginx', '  300 db    12.0 postgres']),
    );
    screen.write(frame(2, ['  200 www   49.9 nginx']));
    const snap = await screen.snapshot();
    screen.dispose();
    assert.equal(snap.alternateScreen, true);
    assert.equal(snap.applicationCursor, true);
    assert.deepEqual(snap.lines, [
      'top - 10:00:02 up 1 day',
      'Tasks: 1 total',
      '  PID USER  %CPU COMMAND',
      '  200 www   49.9 nginx',
      '',
      '',
    ]);
  });

  it('reports the title a program sets', async () => {
    assert.equal((await render(`${ESC}]0;user@host: ~${ESC}\\$ `)).title, 'user@host: ~');
    assert.equal((await render(`${ESC}]2;vim notes\x07`)).title, 'vim notes');
    assert.equal('title' in (await render('no title')), false);
  });

  it('resizes after the output written before, keeping the content', async () => {
    const screen = new ScreenMirror(20, 5);
    screen.write('abc\r\ndef');
    screen.resize(30, 8);
    screen.write(`${CSI}8;30HZ`);
    const bigger = await screen.snapshot();
    assert.equal(bigger.cols, 30);
    assert.equal(bigger.rows, 8);
    assert.equal(bigger.lines.length, 8);
    assert.deepEqual(bigger.lines.slice(0, 2), ['abc', 'def']);
    assert.equal(bigger.lines[7], `${' '.repeat(29)}Z`);
    assert.deepEqual(bigger.cursor, { row: 7, col: 29 });

    screen.write(`${CSI}H${CSI}2J`);
    screen.resize(10, 3);
    screen.write('0123456789ABC');
    const smaller = await screen.snapshot();
    screen.dispose();
    assert.equal(smaller.cols, 10);
    assert.equal(smaller.rows, 3);
    assert.deepEqual(smaller.lines, ['0123456789', 'ABC', '']);
    assert.deepEqual(smaller.cursor, { row: 1, col: 3 });
  });

  it('rejects sizes out of range', () => {
    assert.throws(() => new ScreenMirror(0, 10), RangeError);
    assert.throws(() => new ScreenMirror(80, 10.5), RangeError);
    assert.throws(() => new ScreenMirror(80, 24, -1), RangeError);
    const screen = new ScreenMirror(80, 24);
    assert.throws(() => screen.resize(80, 0), /rows must be an integer from 1 to 500/);
    assert.throws(() => screen.resize(5000, 24), /cols must be an integer from 2 to 1000/);
    screen.dispose();
  });

  it('answers terminal queries through onReply', async () => {
    const screen = new ScreenMirror(20, 5);
    const replies: string[] = [];
    const stop = screen.onReply((reply) => replies.push(reply));
    screen.write(`${CSI}3;7H${CSI}6n`);
    screen.write(`${CSI}5n`);
    await screen.snapshot();
    assert.deepEqual(replies, [`${CSI}3;7R`, `${CSI}0n`]);
    // Device Attributes: some answer starting CSI ? ... c.
    screen.write(`${CSI}c`);
    await screen.snapshot();
    assert.match(replies[2] ?? '', /^\x1b\[\?[\d;]+c$/);
    stop();
    screen.write(`${CSI}6n`);
    await screen.snapshot();
    screen.dispose();
    assert.equal(replies.length, 3);
  });

  it('keeps parsing when a reply listener throws', async () => {
    const screen = new ScreenMirror(20, 2);
    screen.onReply(() => {
      throw new Error('channel closed');
    });
    screen.write(`${CSI}6nstill here`);
    const snap = await screen.snapshot();
    screen.dispose();
    assert.equal(snap.lines[0], 'still here');
  });

  it('tracks application cursor mode for send_keys', async () => {
    assert.equal((await render(`${CSI}?1h`)).applicationCursor, true);
    assert.equal((await render(`${CSI}?1h${CSI}?1l`)).applicationCursor, false);
  });

  it('parses 10 MB of output fast, keeping only the scrollback', async (t) => {
    const screen = new ScreenMirror(120, 40, 1000);
    const lines: string[] = [];
    let size = 0;
    for (let n = 0; size < 10 * 1024 * 1024; n++) {
      const line = `${CSI}3${n % 8}m${n}${CSI}0m ${'x'.repeat(90)} ${CSI}1;32mok${CSI}m\r\n`;
      lines.push(line);
      size += line.length;
    }
    const bytes = Buffer.from(`${lines.join('')}${CSI}1mTHE END${CSI}m`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const start = performance.now();
    // As an SSH channel delivers it: 32 KB chunks, a few per event-loop turn (timers run in between).
    for (let i = 0; i < bytes.length; i += 32 * 1024) {
      screen.write(bytes.subarray(i, i + 32 * 1024));
      if ((i / (32 * 1024)) % 4 === 3) await nextTurn(0);
    }
    const snap = await screen.snapshot();
    const ms = performance.now() - start;
    clearInterval(timer);
    t.diagnostic(
      `10 MB parsed in ${ms.toFixed(0)} ms (${((bytes.length / 1e6 / ms) * 1000).toFixed(0)} MB/s)`,
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
    assert.ok(ticks > 0, 'the parser yields to the event loop');
    assert.equal(screen.droppedBytes, 0);
    assert.equal(snap.lines[39], 'THE END');
    assert.equal(snap.lines[38], `${lines.length - 1} ${'x'.repeat(90)} ok`);
    assert.equal(bufferedLines(screen), 40 + 1000);
    screen.dispose();
  });

  it('bounds unparsed output in a flood, dropping the oldest and keeping the newest', async () => {
    const screen = new ScreenMirror(40, 4, 100);
    screen.write(`${'z'.repeat(2 * 1024 * 1024)}\r\n`);
    const early = screen.snapshot();
    // 24 MB written with no chance to parse in between: far more than the 1 + 8 MB held.
    const chunk = `${'y'.repeat(39)}\r\n`.repeat(25_000);
    for (let i = 0; i < 12; i++) screen.write(chunk);
    const middle = screen.snapshot();
    for (let i = 0; i < 12; i++) screen.write(chunk);
    screen.write('newest line');
    // Snapshots queued in the flood still resolve, in order, each showing only output from before it (what of
    // that output was kept: the oldest queued output is what gets dropped).
    const earlyLines = (await early).lines;
    assert.ok(earlyLines.every((line) => /^z*$/.test(line)) && earlyLines[0] !== '', earlyLines.join('|'));
    assert.ok((await middle).lines.every((line) => /^(z*|y*)$/.test(line)));
    const total = 2 * 1024 * 1024 + 2 + 24 * chunk.length;
    assert.ok(screen.droppedBytes >= total - 9 * 1024 * 1024 - 64 * 1024, `${screen.droppedBytes}`);
    assert.ok(screen.droppedBytes < total);
    const snap = await screen.snapshot();
    screen.dispose();
    assert.equal(snap.lines[3], 'newest line');
    assert.equal(snap.lines[2], 'y'.repeat(39));
    assert.ok(bufferedLines(screen) <= 104);
  });

  it('orders snapshots and resizes after earlier writes', async () => {
    const screen = new ScreenMirror(20, 3);
    screen.write('one');
    const first = screen.snapshot();
    screen.write('\r\ntwo');
    screen.resize(25, 3);
    const second = screen.snapshot();
    assert.deepEqual((await first).lines, ['one', '', '']);
    assert.equal((await first).cols, 20);
    assert.deepEqual((await second).lines, ['one', 'two', '']);
    assert.equal((await second).cols, 25);
    screen.dispose();
  });

  it('rejects a snapshot it cannot read instead of hanging', async () => {
    const screen = new ScreenMirror(20, 3);
    (screen as unknown as { read: () => never }).read = () => {
      throw new Error('cannot read');
    };
    screen.write('x');
    await assert.rejects(screen.snapshot(), /cannot read/);
    screen.dispose();
  });

  it('ignores writes after dispose and rejects snapshots', async () => {
    const screen = new ScreenMirror(20, 3);
    screen.write('x'.repeat(3 * 1024 * 1024));
    const pending = screen.snapshot();
    screen.dispose();
    await assert.rejects(pending, /disposed/);
    screen.write('more');
    await assert.rejects(screen.snapshot(), /disposed/);
    screen.dispose();
  });
});
