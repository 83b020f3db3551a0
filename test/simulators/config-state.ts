// Device-wide configuration state shared by the vendor simulators: confirm timers that survive a dropped
// connection, broadcasts to logged-in sessions, and the line-based configuration model of IOS / EOS
// (`interface X` blocks with indented children) with the two diff formats those devices print.
//
// Everything here is bounded: timers are tracked and cleared by dispose(), diffs fall back to a plain
// "all removed / all added" answer when the changed region is too large for the quadratic LCS.

import type { CliShell } from './cli-engine.js';

// ---------------------------------------------------------------------------------------------------------
// Timers and broadcasts
// ---------------------------------------------------------------------------------------------------------

/** One device's timers. A timer outlives the SSH connection that armed it; dispose() clears them all. */
export class DeviceTimers {
  private readonly live = new Set<NodeJS.Timeout>();
  private disposed = false;

  /** Runs fn after ms (unless cancelled or disposed first). */
  after(ms: number, fn: () => void): NodeJS.Timeout | null {
    if (this.disposed) return null;
    const t = setTimeout(
      () => {
        this.live.delete(t);
        if (!this.disposed) fn();
      },
      Math.max(0, ms),
    );
    t.unref?.();
    this.live.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | null | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.live.delete(t);
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }

  get count(): number {
    return this.live.size;
  }
}

/** The CLI sessions currently logged in to one device (for broadcasts); closed sessions are dropped. */
export class ShellRegistry<S extends CliShell = CliShell> {
  private readonly shells = new Set<S>();

  add(shell: S): void {
    this.prune();
    this.shells.add(shell);
  }

  delete(shell: S): void {
    this.shells.delete(shell);
  }

  private prune(): void {
    for (const s of this.shells) if (!s.alive) this.shells.delete(s);
  }

  all(): S[] {
    this.prune();
    return [...this.shells];
  }
}

/** Minutes of device time -> milliseconds of test time. */
export function scaledMinutes(minutes: number, minuteMs: number): number {
  return Math.round(minutes * minuteMs);
}

/** "2024-06-04 10:15:30 UTC" (Junos dates). */
export function isoUtc(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

// ---------------------------------------------------------------------------------------------------------
// Line diff (LCS) and EOS unified diff
// ---------------------------------------------------------------------------------------------------------

export type DiffOp = { op: ' ' | '-' | '+'; line: string; a: number; b: number };

/** Bound on the changed region (rows x columns) handed to the quadratic LCS. */
const LCS_CELLS = 4_000_000;

/** Line-by-line diff of a and b: common prefix/suffix trimmed, LCS on the rest. */
export function diffLines(a: string[], b: string[]): DiffOp[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const ops: DiffOp[] = [];
  for (let i = 0; i < pre; i++) ops.push({ op: ' ', line: a[i] ?? '', a: i, b: i });
  const n = am.length;
  const m = bm.length;
  if (n * m > LCS_CELLS) {
    for (const [i, line] of am.entries()) ops.push({ op: '-', line, a: pre + i, b: pre });
    for (const [j, line] of bm.entries()) ops.push({ op: '+', line, a: pre + n, b: pre + j });
  } else {
    // lcs[i][j] = LCS length of am[i..] and bm[j..]
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          am[i] === bm[j]
            ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1
            : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ op: ' ', line: am[i] ?? '', a: pre + i, b: pre + j });
        i++;
        j++;
      } else if (i < n && (j >= m || (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
        // Removals before additions, as diff(1) prints them.
        ops.push({ op: '-', line: am[i] ?? '', a: pre + i, b: pre + j });
        i++;
      } else {
        ops.push({ op: '+', line: bm[j] ?? '', a: pre + i, b: pre + j });
        j++;
      }
    }
  }
  for (let k = 0; k < suf; k++) {
    const ai = a.length - suf + k;
    const bi = b.length - suf + k;
    ops.push({ op: ' ', line: a[ai] ?? '', a: ai, b: bi });
  }
  return ops;
}

/** GNU unified diff hunks (3 lines of context) of two line lists; '' when equal. */
export function unifiedHunks(a: string[], b: string[], context = 3): string {
  const ops = diffLines(a, b);
  const changed = ops.map((o, i) => (o.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  const out: string[] = [];
  let k = 0;
  while (k < changed.length) {
    let start = Math.max(0, (changed[k] ?? 0) - context);
    let end = Math.min(ops.length - 1, (changed[k] ?? 0) + context);
    while (k + 1 < changed.length && (changed[k + 1] ?? 0) - context <= end + 1) {
      k++;
      end = Math.min(ops.length - 1, (changed[k] ?? 0) + context);
    }
    k++;
    start = Math.max(0, start);
    const part = ops.slice(start, end + 1);
    const aLines = part.filter((o) => o.op !== '+').length;
    const bLines = part.filter((o) => o.op !== '-').length;
    const first = part[0];
    const aStart = first ? first.a + (aLines ? 1 : 0) : 0;
    const bStart = first ? first.b + (bLines ? 1 : 0) : 0;
    out.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`);
    for (const o of part) out.push(`${o.op}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// IOS / EOS configuration as lines: top-level commands, `interface X` style blocks with indented children
// ---------------------------------------------------------------------------------------------------------

/** Sub-mode commands whose children are indented below them. */
const BLOCK_HEADERS =
  /^(interface|router|line|vlan|ip access-list|vrf definition|route-map|management|archive|class-map|policy-map|aaa group)\b/;

/** Commands that have one value: setting them again replaces the old line (matched by these prefixes). */
const SINGLE_VALUED = [
  'hostname',
  'description',
  'ip address',
  'mtu',
  'speed',
  'duplex',
  'switchport mode',
  'switchport access vlan',
  'ip domain name',
  'ip domain-name',
  'router-id',
  'path',
  'maximum',
  'exec-timeout',
  'name',
  'spanning-tree mode',
];

export function isBlockHeader(cmd: string): boolean {
  return BLOCK_HEADERS.test(cmd);
}

function singleKey(cmd: string): string | null {
  for (const k of SINGLE_VALUED) if (cmd === k || cmd.startsWith(`${k} `)) return k;
  return null;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Index range [start, end) of the block whose header is `header` (end = first line not indented). */
function findBlock(lines: string[], header: string): { start: number; end: number } | null {
  const start = lines.indexOf(header);
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && indentOf(lines[end] ?? '') > 0) end++;
  return { start, end };
}

/** Where new top-level content goes: before the final `end` (or at the end). */
function tailIndex(lines: string[]): number {
  const i = lines.lastIndexOf('end');
  return i < 0 ? lines.length : i;
}

/**
 * Applies one configuration command to a running-config line list (IOS indent 1, EOS indent 3). `context`
 * is the sub-mode header (`interface Ethernet1`) or null at the global level. Returns the new context.
 */
export function applyConfigLine(
  lines: string[],
  context: string | null,
  raw: string,
  indent: number,
): string | null {
  const cmd = raw.trim().replace(/\s+/g, ' ');
  if (!cmd) return context;
  const pad = ' '.repeat(indent);
  const negate = /^no (.+)$/.exec(cmd);
  if (context === null || isBlockHeader(cmd) || (negate && isBlockHeader(negate[1] ?? ''))) {
    if (negate) {
      const what = negate[1] ?? '';
      const block = findBlock(lines, what);
      if (block) {
        const sep = lines[block.end] === '!' ? 1 : 0;
        lines.splice(block.start, block.end - block.start + sep);
        return null;
      }
      const i = lines.findIndex((l) => l === what || (indentOf(l) === 0 && l.startsWith(`${what} `)));
      if (i >= 0) lines.splice(i, 1);
      return null;
    }
    if (isBlockHeader(cmd)) {
      if (!findBlock(lines, cmd)) {
        const at = tailIndex(lines);
        const before = lines[at - 1];
        const add = before === '!' || at === 0 ? [cmd, '!'] : ['!', cmd, '!'];
        lines.splice(at, 0, ...add);
      }
      return cmd;
    }
    const key = singleKey(cmd);
    const existing = lines.findIndex(
      (l) => indentOf(l) === 0 && (l === cmd || (key !== null && (l === key || l.startsWith(`${key} `)))),
    );
    if (existing >= 0) lines[existing] = cmd;
    else {
      const at = tailIndex(lines);
      const before = lines[at - 1];
      lines.splice(at, 0, ...(before === '!' || at === 0 ? [cmd, '!'] : ['!', cmd, '!']));
    }
    return null;
  }
  // Inside a block.
  const block = findBlock(lines, context);
  if (!block) return context;
  const children = lines.slice(block.start + 1, block.end).map((l) => l.trim());
  if (negate) {
    const what = negate[1] ?? '';
    const idx = children.findIndex((c) => c === what || c.startsWith(`${what} `));
    if (idx >= 0) lines.splice(block.start + 1 + idx, 1);
    if (what === 'shutdown') return context; // "no shutdown" just removes "shutdown"
    return context;
  }
  const key = singleKey(cmd);
  const idx = children.findIndex(
    (c) => c === cmd || (key !== null && (c === key || c.startsWith(`${key} `))),
  );
  if (idx >= 0) lines[block.start + 1 + idx] = `${pad}${cmd}`;
  else lines.splice(block.end, 0, `${pad}${cmd}`);
  return context;
}

/**
 * Cisco "Contextual Config Diffs" (show archive config differences): lines only in `to` get "+", lines only
 * in `from` get "-"; a changed child line is shown under its parent, the marker after the indentation.
 */
export function contextualDiff(from: string[], to: string[]): string {
  type Block = { header: string; children: string[] };
  const parse = (lines: string[]): Block[] => {
    const blocks: Block[] = [];
    for (const l of lines) {
      if (
        l === '' ||
        l.startsWith('!') ||
        l === 'end' ||
        /^(Building configuration|Current configuration)/.test(l)
      )
        continue;
      if (indentOf(l) > 0 && blocks.length > 0) blocks[blocks.length - 1]?.children.push(l);
      else blocks.push({ header: l, children: [] });
    }
    return blocks;
  };
  const a = parse(from);
  const b = parse(to);
  const key = (x: Block) => x.header;
  const aMap = new Map(a.map((x) => [key(x), x]));
  const bMap = new Map(b.map((x) => [key(x), x]));
  const marked = (line: string, mark: string) => {
    const n = indentOf(line);
    return `${line.slice(0, n)}${mark}${line.slice(n)}`;
  };
  const out: string[] = [];
  for (const x of b) {
    const old = aMap.get(key(x));
    if (!old) {
      out.push(`+${x.header}`, ...x.children.map((c) => marked(c, '+')));
      continue;
    }
    const added = x.children.filter((c) => !old.children.includes(c));
    const removed = old.children.filter((c) => !x.children.includes(c));
    if (added.length || removed.length) {
      out.push(x.header, ...removed.map((c) => marked(c, '-')), ...added.map((c) => marked(c, '+')));
    }
  }
  for (const x of a) {
    if (!bMap.has(key(x))) out.push(`-${x.header}`, ...x.children.map((c) => marked(c, '-')));
  }
  if (out.length === 0) return '!No changes were found\n';
  return `!Contextual Config Diffs:\n${out.join('\n')}\n`;
}
