import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { compileDialect, type Dialect } from './dialect.js';
import { dialectFileSchema } from './schema.js';

/** Where the built-in dialects live: `dialects/` at the package root, next to `src/` and `dist/`. */
export const BUILTIN_DIALECT_DIR = fileURLToPath(new URL('../../dialects/', import.meta.url));

export class DialectError extends Error {}

/** Parse, validate and compile one dialect file; errors name the file, line, column and field. */
export async function loadDialectFile(file: string): Promise<Dialect> {
  const text = await readFile(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const yamlError = doc.errors[0];
  if (yamlError) throw new DialectError(`${where(yamlError.pos[0])}: ${yamlError.message}`);

  const parsed = dialectFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const node = doc.getIn(issue.path as (string | number)[], true);
      const field = issue.path.join('.') || '(top level)';
      return `${where(isNode(node) ? node.range?.[0] : undefined)}: ${field}: ${issue.message}`;
    });
    throw new DialectError(messages.join('\n'));
  }
  try {
    return compileDialect(parsed.data, file);
  } catch (error) {
    throw new DialectError(`${file}: ${(error as Error).message}`);
  }
}

/** Dialects by name, loaded lazily and cached: a server that only talks to Linux hosts parses one file. */
export class DialectRegistry {
  private readonly cache = new Map<string, Promise<Dialect>>();

  constructor(private readonly dirs: string[] = [BUILTIN_DIALECT_DIR]) {}

  get(name: string): Promise<Dialect> {
    let dialect = this.cache.get(name);
    if (!dialect) {
      dialect = this.find(name);
      this.cache.set(name, dialect);
      dialect.catch(() => this.cache.delete(name));
    }
    return dialect;
  }

  private async find(name: string): Promise<Dialect> {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new DialectError(`"${name}" is not a dialect name`);
    // Later folders win, so a user's folder can override a built-in of the same name.
    for (const dir of [...this.dirs].reverse()) {
      const file = path.join(dir, `${name}.yaml`);
      try {
        return await loadDialectFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new DialectError(`no dialect named "${name}" in ${this.dirs.join(', ')}`);
  }
}
