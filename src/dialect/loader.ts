import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../util/log.js';
import { parseYamlSource } from '../util/yaml-source.js';
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
  const source = parseYamlSource(await readFile(file, 'utf8'), file);
  if (source.syntaxError) throw new DialectError(source.syntaxError);
  const locate = (fieldPath: (string | number)[]) => source.locate(fieldPath);

  const parsed = dialectFileSchema.safeParse(source.data);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
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

  /** Every dialect; a file that does not load is listed as such rather than hiding the others. */
  async list(): Promise<DialectListing[]> {
    const listings: DialectListing[] = [];
    for (const name of await this.names()) {
      try {
        const dialect = await this.get(name);
        const builtin = path.dirname(dialect.source) === path.resolve(BUILTIN_DIALECT_DIR);
        listings.push({
          name,
          description: dialect.description,
          source: builtin ? 'builtin' : dialect.source,
          modes: dialect.modes.map((m) => m.name),
        });
      } catch (error) {
        listings.push({
          name,
          description: `does not load: ${(error as Error).message}`,
          source: 'error',
          modes: [],
        });
      }
    }
    return listings;
  }

  /** Dialects that declare detection rules, for a host whose dialect nobody named. */
  async detectable(): Promise<Dialect[]> {
    const loaded = await Promise.all(
      (await this.names()).map((name) =>
        this.get(name).catch((error: Error) => {
          // One broken file must not stop every other dialect from being detected.
          log.warn(`dialect ${name} skipped for detection: ${error.message}`);
          return undefined;
        }),
      ),
    );
    return loaded.filter(
      (d): d is Dialect =>
        d !== undefined && Boolean(d.detect.prompt || d.detect.probes.length > 0 || d.detect.greeting),
    );
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
    const parentName = file.extends;
    // A dialect may extend the built-in it overrides (same name): its parent is then looked up in the
    // folders before this file's, which is no cycle.
    const overridesParent = parentName === file.name;
    if (!overridesParent && chain.includes(parentName)) {
      throw new DialectError(`${source}: extends: cycle ${[...chain, parentName].join(' -> ')}`);
    }
    let parentFile: string;
    try {
      parentFile = overridesParent
        ? await this.fileBefore(parentName, source)
        : await this.fileOf(parentName);
    } catch (error) {
      throw new DialectError(`${source}: extends: ${(error as Error).message}`);
    }
    const parent = (await readDialectFile(parentFile)).data;
    const resolvedParent = await this.resolveExtends(parent, parentFile, [...chain, parentName]);
    return mergeDialectFiles(resolvedParent, file);
  }

  private async fileBefore(name: string, source: string): Promise<string> {
    const dirs = this.dirs.filter((dir) => path.resolve(dir) !== path.dirname(path.resolve(source)));
    return new DialectRegistry(dirs).fileOf(name);
  }
}
