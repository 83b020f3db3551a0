import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { compileDialect, type Dialect, DialectFieldError, mergeDialectFiles } from './dialect.js';
import { type DialectFile, dialectFileSchema } from './schema.js';

/** Where the built-in dialects live: `dialects/` at the package root, next to `src/` and `dist/`. */
export const BUILTIN_DIALECT_DIR = fileURLToPath(new URL('../../dialects/', import.meta.url));

/** Extra dialect folders, separated like PATH; later folders win over earlier ones and the built-ins. */
export const DIALECT_PATH_ENV = 'MCP_SSH_DIALECT_PATH';

export class DialectError extends Error {}

export interface DialectSource {
  data: DialectFile;
  file: string;
  /** "file:line:col" of a field, or just the file when the field is not in it. */
  locate(path: (string | number)[]): string;
}

/** Parse and validate one file; errors name the file, line, column and field. */
export async function readDialectFile(file: string): Promise<DialectSource> {
  const text = await readFile(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const locate = (fieldPath: (string | number)[]) => {
    // The deepest node that exists: a missing field is reported where its parent is.
    for (let depth = fieldPath.length; depth >= 0; depth--) {
      const node = doc.getIn(fieldPath.slice(0, depth), true);
      if (isNode(node)) return where(node.range?.[0]);
    }
    return file;
  };
  const yamlError = doc.errors[0];
  if (yamlError) throw new DialectError(`${where(yamlError.pos[0])}: ${yamlError.message}`);

  const parsed = dialectFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      // The deepest node that exists: a missing field is reported where its parent is.
      const field = issue.path.join('.') || '(top level)';
      return `${locate(issue.path as (string | number)[])}: ${field}: ${issue.message}`;
    });
    throw new DialectError(messages.join('\n'));
  }
  const expected = path.basename(file, '.yaml');
  if (parsed.data.name !== expected) {
    throw new DialectError(
      `${locate(['name'])}: name: "${parsed.data.name}" must match the file name "${expected}"`,
    );
  }
  return { data: parsed.data, file, locate };
}

/** Load one file on its own, resolving `extends` through the given folders. */
export async function loadDialectFile(file: string, dirs: string[] = defaultDialectDirs()): Promise<Dialect> {
  return new DialectRegistry(dirs).compile(await readDialectFile(file));
}

export function defaultDialectDirs(extra: string[] = []): string[] {
  const fromEnv = (process.env[DIALECT_PATH_ENV] ?? '').split(path.delimiter).filter(Boolean);
  return [BUILTIN_DIALECT_DIR, ...extra, ...fromEnv];
}

export interface DialectListing {
  name: string;
  description: string;
  /** `builtin`, or the file it was loaded from. */
  source: string;
  modes: string[];
}

/** Dialects by name, loaded lazily and cached: a server that only talks to one kind of host parses one file. */
export class DialectRegistry {
  private readonly cache = new Map<string, Promise<Dialect>>();

  constructor(readonly dirs: string[] = defaultDialectDirs()) {}

  get(name: string): Promise<Dialect> {
    let dialect = this.cache.get(name);
    if (!dialect) {
      dialect = this.load(name);
      this.cache.set(name, dialect);
      dialect.catch(() => this.cache.delete(name));
    }
    return dialect;
  }

  /** Every dialect name in the folders; a later folder's file replaces an earlier one of the same name. */
  async names(): Promise<string[]> {
    const names = new Set<string>();
    for (const dir of this.dirs) {
      const entries = await readdir(dir).catch(() => [] as string[]);
      for (const entry of entries) if (entry.endsWith('.yaml')) names.add(entry.slice(0, -'.yaml'.length));
    }
    return [...names].sort();
  }

  async list(): Promise<DialectListing[]> {
    const listings: DialectListing[] = [];
    for (const name of await this.names()) {
      const dialect = await this.get(name);
      listings.push({
        name,
        description: dialect.description,
        source:
          path.dirname(dialect.source) === path.resolve(BUILTIN_DIALECT_DIR) ? 'builtin' : dialect.source,
        modes: dialect.modes.map((m) => m.name),
      });
    }
    return listings;
  }

  /** Dialects that declare detection rules, for a host whose dialect nobody named. */
  async detectable(): Promise<Dialect[]> {
    const all = await Promise.all((await this.names()).map((name) => this.get(name)));
    return all.filter((d) => d.detect.prompt || d.detect.probe || d.detect.greeting);
  }

  /** The file that defines a name: the last folder that has it. */
  async fileOf(name: string): Promise<string> {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new DialectError(`"${name}" is not a dialect name`);
    for (const dir of [...this.dirs].reverse()) {
      const file = path.resolve(dir, `${name}.yaml`);
      try {
        await readFile(file);
        return file;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    const known = await this.names();
    throw new DialectError(
      `no dialect named "${name}"; known dialects: ${known.join(', ') || 'none'} (folders: ${this.dirs.join(', ')})`,
    );
  }

  async compile(source: DialectSource): Promise<Dialect> {
    const merged = await this.resolveExtends(source.data, source.file, [source.data.name]);
    try {
      return compileDialect(merged, source.file);
    } catch (error) {
      const at = error instanceof DialectFieldError ? source.locate(error.path) : source.file;
      throw new DialectError(`${at}: ${(error as Error).message}`);
    }
  }

  private async load(name: string): Promise<Dialect> {
    return this.compile(await readDialectFile(await this.fileOf(name)));
  }

  private async resolveExtends(file: DialectFile, source: string, chain: string[]): Promise<DialectFile> {
    if (!file.extends) return file;
    if (chain.includes(file.extends)) {
      throw new DialectError(`${source}: extends: cycle ${[...chain, file.extends].join(' -> ')}`);
    }
    // A dialect may extend a built-in it overrides: look the parent up in the folders before this file's.
    const parentFile = await this.fileOf(file.extends).then(async (found) =>
      found === path.resolve(source) ? this.fileBefore(file.extends as string, source) : found,
    );
    const parent = (await readDialectFile(parentFile)).data;
    const resolvedParent = await this.resolveExtends(parent, parentFile, [...chain, file.extends]);
    return mergeDialectFiles(resolvedParent, file);
  }

  private async fileBefore(name: string, source: string): Promise<string> {
    const dirs = this.dirs.filter((dir) => path.resolve(dir) !== path.dirname(path.resolve(source)));
    return new DialectRegistry(dirs).fileOf(name);
  }
}
