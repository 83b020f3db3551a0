// Junos configuration as a tree: parsed from / rendered to the curly-brace text `show configuration` prints,
// changed by `set` / `delete` word lists, compared in the `show | compare` format and listed as `set`
// statements (`| display set`).
//
// Junos knows, from its schema, which words open a container and which ones take a name ("unit 0",
// "family inet"). The simulator has no schema: a word is a container when a container of that name already
// exists, when it is a top-level statement, a child of a list such as `interfaces`, a known "keyword + name"
// statement, or when at least two more words follow it. Good enough for the statements tests type.

import { tokenize } from './cli-engine.js';

export interface JNode {
  /** "system", "unit 0", or for a leaf the statement without ';' ("host-name lab-fw1"). */
  name: string;
  leaf: boolean;
  children: JNode[];
  /** Text after ';' on the same line (" ## SECRET-DATA"). */
  comment?: string;
}

/** Statements whose children are named entries (interface names, VLAN names, ...). */
const LIST_PARENTS = new Set([
  'interfaces',
  'vlans',
  'groups',
  'routing-instances',
  'policy-statement',
  'zones',
]);
/** Keywords that together with the next word name one container ("unit 0", "family inet"). */
const NAMED = new Set([
  'unit',
  'family',
  'user',
  'group',
  'neighbor',
  'area',
  'interface',
  'term',
  'community',
  'policy-statement',
  'prefix-list',
  'security-zone',
  'filter',
  'instance',
  'vlan',
  'file',
]);
/** Statements that take the rest of the words as their value. */
const LEAF_VALUE = new Set([
  'host-name',
  'domain-name',
  'description',
  'address',
  'uid',
  'class',
  'encrypted-password',
  'mtu',
  'route',
  'time-zone',
  'vlan-id',
  'location',
  'contact',
  'router-id',
  'autonomous-system',
  'message',
  'next-hop',
  'members',
  'interface-mode',
  'peer-as',
  'local-address',
  'type',
  'export',
  'import',
]);
/** Statements with a single value: setting them again replaces the old one. */
const SINGLE = new Set([
  'host-name',
  'domain-name',
  'description',
  'uid',
  'class',
  'encrypted-password',
  'mtu',
  'time-zone',
  'vlan-id',
  'location',
  'contact',
  'router-id',
  'autonomous-system',
  'message',
  'interface-mode',
  'peer-as',
  'local-address',
  'type',
  'version',
]);

export function emptyRoot(): JNode {
  return { name: '', leaf: false, children: [] };
}

export function cloneTree(n: JNode): JNode {
  return { ...n, children: n.children.map(cloneTree) };
}

/** Parses `show configuration` text (a leading "## Last commit" line is skipped). */
export function parseJunosText(text: string): JNode {
  const root = emptyRoot();
  const stack: JNode[] = [root];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('##')) continue;
    const parent = stack[stack.length - 1] ?? root;
    if (line === '}') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const open = /^(.*\S)\s*\{$/.exec(line);
    if (open) {
      const node: JNode = { name: open[1] ?? '', leaf: false, children: [] };
      parent.children.push(node);
      stack.push(node);
      continue;
    }
    const leaf = /^([^;]*);(.*)$/.exec(line);
    if (leaf) {
      const node: JNode = { name: (leaf[1] ?? '').trim(), leaf: true, children: [] };
      if (leaf[2]) node.comment = leaf[2];
      parent.children.push(node);
    }
  }
  return root;
}

/** Curly-brace text, 4 spaces per level (no "## Last commit" line). */
export function renderJunos(node: JNode, depth = 0, out: string[] = []): string[] {
  for (const c of node.children) {
    const pad = ' '.repeat(depth * 4);
    if (c.leaf) out.push(`${pad}${c.name};${c.comment ?? ''}`);
    else {
      out.push(`${pad}${c.name} {`);
      renderJunos(c, depth + 1, out);
      out.push(`${pad}}`);
    }
  }
  return out;
}

/** `| display set`: one `set` statement per leaf. */
export function toSetLines(node: JNode, prefix: string[] = [], out: string[] = []): string[] {
  for (const c of node.children) {
    const path = [...prefix, c.name];
    if (c.leaf) out.push(`set ${path.join(' ')}`);
    else if (c.children.length === 0) out.push(`set ${path.join(' ')}`);
    else toSetLines(c, path, out);
  }
  return out;
}

function words(text: string): string[] {
  return tokenize(text).map((t) => t.text);
}

/** Result of walking a `set` path: the container to change and the leaf (or empty container) to put in it. */
interface SetTarget {
  containers: string[];
  leaf: string | null;
}

function findContainer(node: JNode, name: string): JNode | undefined {
  return node.children.find((c) => !c.leaf && c.name === name);
}

/** Decides how the words of a `set` statement map onto containers and a final leaf. */
function planSet(root: JNode, path: string[]): SetTarget {
  const containers: string[] = [];
  let node: JNode | undefined = root;
  let i = 0;
  while (i < path.length) {
    const rem = path.length - i;
    const w = path[i] ?? '';
    const two = rem > 2 ? `${w} ${path[i + 1]}` : null;
    if (node && two && findContainer(node, two)) {
      containers.push(two);
      node = findContainer(node, two);
      i += 2;
      continue;
    }
    if (node && rem > 1 && findContainer(node, w)) {
      containers.push(w);
      node = findContainer(node, w);
      i += 1;
      continue;
    }
    if (rem === 1) return { containers, leaf: w };
    const parentName = containers[containers.length - 1] ?? '';
    if (containers.length === 0 || (containers.length === 1 && LIST_PARENTS.has(parentName))) {
      containers.push(w);
      node = node ? findContainer(node, w) : undefined;
      i += 1;
      continue;
    }
    if (NAMED.has(w) && rem >= 3) {
      const name = `${w} ${path[i + 1]}`;
      containers.push(name);
      node = node ? findContainer(node, name) : undefined;
      i += 2;
      continue;
    }
    if (LEAF_VALUE.has(w) || rem <= 2) return { containers, leaf: path.slice(i).join(' ') };
    containers.push(w);
    node = node ? findContainer(node, w) : undefined;
    i += 1;
  }
  return { containers, leaf: null };
}

/** `set <path>`: adds the statement (replacing a single-valued one). */
export function applySet(root: JNode, pathText: string): void {
  const path = words(pathText);
  if (path.length === 0) return;
  const plan = planSet(root, path);
  let node = root;
  for (const name of plan.containers) {
    let next = findContainer(node, name);
    if (!next) {
      // A leaf of the same name becomes a container ("ssh;" -> "ssh { root-login deny; }").
      const asLeaf = node.children.findIndex((c) => c.leaf && c.name === name);
      next = { name, leaf: false, children: [] };
      if (asLeaf >= 0) node.children.splice(asLeaf, 1, next);
      else node.children.push(next);
    }
    node = next;
  }
  if (plan.leaf === null) return;
  const leaf = plan.leaf;
  if (node.children.some((c) => c.name === leaf)) return;
  const kw = leaf.split(' ')[0] ?? '';
  if (SINGLE.has(kw)) {
    const at = node.children.findIndex((c) => c.leaf && (c.name === kw || c.name.startsWith(`${kw} `)));
    if (at >= 0) {
      node.children[at] = { name: leaf, leaf: true, children: [] };
      return;
    }
  }
  node.children.push({ name: leaf, leaf: true, children: [] });
}

/** `delete <path>`: removes a container or statement; false when nothing matched. */
export function applyDelete(root: JNode, pathText: string): boolean {
  const path = words(pathText);
  const trail: JNode[] = [root];
  let node = root;
  let i = 0;
  while (i < path.length) {
    const rest = path.slice(i).join(' ');
    // The rest of the words name a child (container or leaf) exactly, or a leaf by its keyword.
    const exact = node.children.findIndex((c) => c.name === rest);
    const byKeyword =
      path.length - i === 1 ? node.children.findIndex((c) => c.leaf && c.name.startsWith(`${rest} `)) : -1;
    const hit = exact >= 0 ? exact : byKeyword;
    if (hit >= 0) {
      node.children.splice(hit, 1);
      // Containers left empty disappear, as they do on the device.
      for (let k = trail.length - 1; k > 0; k--) {
        const t = trail[k] as JNode;
        if (t.children.length > 0) break;
        const parent = trail[k - 1] as JNode;
        parent.children.splice(parent.children.indexOf(t), 1);
      }
      return true;
    }
    const two = `${path[i]} ${path[i + 1] ?? ''}`;
    const next = findContainer(node, two) ?? findContainer(node, path[i] ?? '');
    if (!next) return false;
    i += next.name === two ? 2 : 1;
    node = next;
    trail.push(node);
  }
  return false;
}

export function treesEqual(a: JNode, b: JNode): boolean {
  return renderJunos(a).join('\n') === renderJunos(b).join('\n');
}

/**
 * First-level indentation of `show | compare` lines below a `[edit ...]` header, taken from captured device
 * output: two spaces at `[edit]` and one level down, three under `[edit interfaces ...]`, depth + 2 deeper.
 */
function compareIndent(path: string[]): number {
  const depth = path.length;
  if (path[0] === 'interfaces' && depth <= 2) return 3;
  return depth <= 1 ? 2 : depth + 2;
}

/**
 * `show | compare`: `[edit a b]` headers with "-" / "+" lines, in configuration order (a header is repeated
 * when changes at its level resume after a deeper one); '' when nothing differs.
 */
export function compareTrees(from: JNode, to: JNode): string {
  const out: string[] = [];
  const state = { header: '' };
  compareLevel(from, to, [], out, state);
  return out.length ? `${out.join('\n')}\n` : '';
}

function compareLevel(
  from: JNode,
  to: JNode,
  path: string[],
  out: string[],
  state: { header: string },
): void {
  const key = (n: JNode) => `${n.leaf ? 'L' : 'C'}:${n.name}`;
  const fromKeys = new Set(from.children.map(key));
  const toKeys = new Set(to.children.map(key));
  // Merged order: children of `to`, with removed children placed where they stood in `from`.
  const merged: { kind: '-' | '+' | '='; node: JNode; old?: JNode }[] = [];
  let j = 0;
  const flushUntil = (k: string | null) => {
    while (j < to.children.length) {
      const c = to.children[j] as JNode;
      j++;
      if (fromKeys.has(key(c))) {
        merged.push({ kind: '=', node: c, old: from.children.find((o) => key(o) === key(c)) });
        if (key(c) === k) return;
      } else merged.push({ kind: '+', node: c });
    }
  };
  for (const f of from.children) {
    if (toKeys.has(key(f))) flushUntil(key(f));
    else merged.push({ kind: '-', node: f });
  }
  flushUntil(null);
  const header = `[edit${path.length ? ` ${path.join(' ')}` : ''}]`;
  const base = compareIndent(path);
  for (const m of merged) {
    if (m.kind === '=') {
      if (!m.node.leaf && m.old) compareLevel(m.old, m.node, [...path, m.node.name], out, state);
      continue;
    }
    if (state.header !== header) {
      out.push(header);
      state.header = header;
    }
    const lines = m.node.leaf ? [`${m.node.name};`] : [`${m.node.name} {`, ...renderJunos(m.node, 1), '}'];
    for (const l of lines) out.push(`${m.kind}${' '.repeat(base)}${l}`);
  }
}
