import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../../src/', import.meta.url).pathname;

/**
 * The layers of src/, top to bottom. A file imports only files of its own layer or of a layer below it, so
 * each layer can be read, tested and changed knowing only what lies beneath it.
 *
 * `transcript` records what a session's runner saw and replays it from a fake sshd: it needs `expect` (the
 * runner's trace) and `ssh` (the replay server), and `session` records through it, so it sits between them.
 */
const LAYERS = [
  'cli',
  'server',
  'files',
  'config',
  'session',
  'transcript',
  'expect',
  'ssh',
  'dialect',
  'policy',
  'audit',
  'util',
] as const;

/** The one layer that talks to the ssh2 package; everything above it uses the types src/ssh/ defines. */
const SSH2_OWNER = 'ssh';

interface Import {
  /** The importing file, relative to src/. */
  from: string;
  /** What the import statement names, as written. */
  specifier: string;
  /** The imported file relative to src/, for a relative import; undefined for a package. */
  file: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every module specifier a file names: `import … from`, `import type … from`, `export … from`, bare
 * `import '…'`, dynamic `import('…')`, `import('…')` in a type, and `import x = require('…')`. Read from
 * the syntax tree, so imports spread over lines count and the word "import" in a comment or string does not.
 */
function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names (ESM spells `x.ts` as `x.js`), relative to src/. */
function resolve(from: string, specifier: string): string {
  const base = path.resolve(SRC, path.dirname(from), specifier);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    `${base}.ts`,
    path.join(base, 'index.ts'),
    base.replace(/\.js$/, ''),
  ];
  const hit = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  return path.relative(SRC, hit ?? base);
}

function importsOf(): Import[] {
  return sourceFiles(SRC).flatMap((full) => {
    const from = path.relative(SRC, full);
    return specifiersOf(full, readFileSync(full, 'utf8')).map((specifier) => ({
      from,
      specifier,
      file: specifier.startsWith('.') ? resolve(from, specifier) : undefined,
    }));
  });
}

function layerOf(file: string): string {
  const [top = ''] = file.split(path.sep);
  return top === 'cli.ts' ? 'cli' : top;
}

function rank(file: string): number {
  return (LAYERS as readonly string[]).indexOf(layerOf(file));
}

function isSsh2(specifier: string): boolean {
  return specifier === 'ssh2' || specifier.startsWith('ssh2/');
}

/** Each import cycle between files, once, as a path that starts and ends at the same file. */
function cyclesOf(imports: readonly Import[]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const { from, file } of imports) {
    if (file === undefined) continue;
    edges.set(from, (edges.get(from) ?? new Set()).add(file));
  }
  // Tarjan's strongly connected components: every cycle lies inside one, and each one of more than one file
  // (or of one file importing itself) holds at least one cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strongConnect = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (!index.has(next)) {
        strongConnect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || edges.get(node)?.has(node)) components.push(component.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) strongConnect(node);

  // For each import inside a component, the shortest cycle through it: every import that must go for the
  // component to fall apart is named, and a cycle reached through several of its imports is named once.
  const cycles = new Map<string, string[]>();
  for (const component of components) {
    const members = new Set(component);
    for (const from of component) {
      for (const to of [...(edges.get(from) ?? [])].sort()) {
        if (!members.has(to)) continue;
        const back = shortestPath(edges, members, to, from);
        if (back === undefined) continue;
        // `back` runs from `to` round to `from`; start the cycle at its first file in sort order.
        const files = [from, ...back.slice(0, -1)];
        const first = files.indexOf([...files].sort()[0] ?? from);
        const rotated = [...files.slice(first), ...files.slice(0, first)];
        const cycle = [...rotated, rotated[0] ?? from];
        cycles.set(cycle.join(' → '), cycle);
      }
    }
  }
  return [...cycles.keys()].sort().map((key) => cycles.get(key) ?? []);
}

/** The shortest import path from one file to another through the given files, both ends included. */
function shortestPath(
  edges: ReadonlyMap<string, ReadonlySet<string>>,
  within: ReadonlySet<string>,
  start: string,
  goal: string,
): string[] | undefined {
  const previous = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    const node = queue[at] ?? '';
    if (node === goal) {
      const route: string[] = [];
      for (let step: string | undefined = node; step !== undefined; step = previous.get(step))
        route.unshift(step);
      return route;
    }
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (!within.has(next) || previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return undefined;
}

describe('architecture of src/', () => {
  const imports = importsOf();

  it('reads every kind of import statement, and nothing that only looks like one', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      'import {',
      '  c,',
      "} from './c.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "import './f.js';",
      "const g = await import('./g.js');",
      "let h: import('./h.js').H;",
      "import i = require('./i.js');",
      "// import x from './comment.js';",
      'const s = "import y from \'./string.js\'";',
    ].join('\n');
    assert.deepEqual(specifiersOf('sample.ts', text), [
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
      './i.js',
    ]);
  });

  it('finds the files of src/ and their imports', () => {
    assert.ok(imports.length > 100, `only ${imports.length} imports found under ${SRC}`);
  });

  it('resolves every relative import to a file of src/', () => {
    const unresolved = imports
      .filter(({ file }) => file !== undefined && !existsSync(path.join(SRC, file)))
      .map(({ from, specifier }) => `${from} → ${specifier}`);
    assert.deepEqual(unresolved, []);
  });

  it('puts every file of src/ in a layer', () => {
    const outside = sourceFiles(SRC)
      .map((full) => path.relative(SRC, full))
      .filter((file) => rank(file) < 0);
    assert.deepEqual(outside, [], `layers are ${LAYERS.join(' → ')}`);
  });

  it(`imports only from its own layer or one below: ${LAYERS.join(' → ')}`, () => {
    const upward = imports
      .filter(({ from, file }) => file !== undefined && rank(file) >= 0 && rank(file) < rank(from))
      .map(({ from, file }) => `${from} (${layerOf(from)}) → ${file} (${layerOf(file ?? '')})`);
    assert.deepEqual(upward, []);
  });

  it('has no import cycle between files', () => {
    const cycles = cyclesOf(imports).map((cycle) => cycle.join(' → '));
    assert.deepEqual(cycles, []);
  });

  it(`imports ssh2 only in src/${SSH2_OWNER}/`, () => {
    const outside = imports
      .filter(({ from, specifier }) => isSsh2(specifier) && layerOf(from) !== SSH2_OWNER)
      .map(({ from, specifier }) => `${from} → ${specifier}`);
    assert.deepEqual(outside, []);
  });
});
