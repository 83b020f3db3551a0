import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../util/log.js';
import { readSmallFile } from '../util/small-file.js';
import { parseYamlSource } from '../util/yaml-source.js';
import { formatIssues } from '../util/zod-issues.js';
import {
  type CompileOptions,
  compileDialect,
  type Dialect,
  DialectCompileError,
  mergeDialectFiles,
} from './dialect.js';
import { type DialectFile, dialectFileSchema } from './schema.js';

/** Dialect files list() loads at once. */
const LIST_CONCURRENCY = 8;
/** A dialect name: lower-case, and short enough to be a file name (NAME_MAX 255, less .yaml). */
export const DIALECT_NAME = /^[a-z0-9][a-z0-9._-]{0,199}$/;
/** The largest dialect file read: the built-ins are 10-20 KiB. */
export const MAX_DIALECT_BYTES = 1024 * 1024;

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

/** A file read as far as it could be, and every problem found on the way ("file:line:col: field: ..."). */
export interface CheckedDialectFile {
  /** Undefined when the file could not be read, is not YAML, or does not fit the schema. */
  source?: DialectSource;
  problems: string[];
}

/** Parse and validate one file, collecting every problem rather than stopping at the first. */
export async function checkDialectFile(file: string): Promise<CheckedDialectFile> {
  let text: string;
  try {
    text = (await readSmallFile(file, MAX_DIALECT_BYTES, 'a dialect file')).toString('utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      problems: [`${file}: ${missing ? 'no such file' : `cannot read it: ${(error as Error).message}`}`],
    };
  }
  const yaml = parseYamlSource(text, file);
  if (yaml.syntaxError) return { problems: [`${yaml.syntaxError}${yamlSyntaxHint(yaml.syntaxError)}`] };
  const locate = (fieldPath: (string | number)[]) => yaml.locate(fieldPath);

  const problems: string[] = [];
  const name = (yaml.data as { name?: unknown } | null)?.name;
  const expected = path.basename(file, '.yaml');
  if (typeof name === 'string' && name !== expected) {
    problems.push(
      `${locate(['name'])}: name: "${name}" must match the file name "${expected}" — rename the file to ${name}.yaml, or write name: ${expected}`,
    );
  }
  let parsed = dialectFileSchema.safeParse(yaml.data ?? {});
  if (!parsed.success) {
    problems.unshift(...formatIssues(parsed.error.issues, dialectFileSchema, file, yaml));
    // Unknown keys alone (typos) leave the rest checkable: drop them and go on, to report more at once.
    const issues = parsed.error.issues;
    if (!issues.every((issue) => issue.code === 'unrecognized_keys')) return { problems };
    parsed = dialectFileSchema.safeParse(withoutKeys(yaml.data, issues));
    if (!parsed.success) return { problems };
  }
  return { source: { data: parsed.data, file, locate }, problems };
}

/** A copy of `data` without the keys the issues name. */
function withoutKeys(data: unknown, issues: { path: PropertyKey[]; keys?: string[] }[]): unknown {
  const copy = structuredClone(data);
  for (const issue of issues) {
    let node = copy as Record<PropertyKey, unknown> | undefined;
    for (const key of issue.path) node = node?.[key] as Record<PropertyKey, unknown> | undefined;
    for (const key of issue.keys ?? []) if (node) delete node[key];
  }
  return copy;
}

/** YAML handles backslashes in double quotes before the regex sees them: the usual cause of this error. */
function yamlSyntaxHint(message: string): string {
  return /escape sequence/i.test(message)
    ? ' — in double quotes YAML reads backslashes itself: put the pattern in single quotes (\'\\s\'), or double each backslash ("\\\\s")'
    : '';
}

/** Parse and validate one file; errors name the file, line, column and field. */
export async function readDialectFile(file: string): Promise<DialectSource> {
  const { source, problems } = await checkDialectFile(file);
  if (!source || problems.length > 0) throw new DialectError(problems.join('\n'));
  return source;
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
  /**
   * Files read and checked, by path: a parent is read once, not once per dialect extending it (2,000
   * dialects extending one took 22 s to list, a chain of 200 took 47 s).
   */
  private readonly sources = new Map<string, Promise<DialectSource>>();

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
    const names = await this.names();
    const listings: DialectListing[] = new Array(names.length);
    // A few at a time: each file is a handful of reads on libuv's four threads, one after another.
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < names.length; i = next++) listings[i] = await this.listing(names[i] as string);
    };
    await Promise.all(Array.from({ length: LIST_CONCURRENCY }, worker));
    return listings;
  }

  private async listing(name: string): Promise<DialectListing> {
    try {
      const dialect = await this.get(name);
      const builtin = path.dirname(dialect.source) === path.resolve(BUILTIN_DIALECT_DIR);
      return {
        name,
        description: dialect.description,
        source: builtin ? 'builtin' : dialect.source,
        modes: dialect.modes.map((m) => m.name),
      };
    } catch (error) {
      return { name, description: `does not load: ${(error as Error).message}`, source: 'error', modes: [] };
    }
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
    if (!DIALECT_NAME.test(name)) {
      const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
      throw new DialectError(
        `"${shown}" is not a dialect name (lower-case letters, digits, ".", "_" and "-"); list_dialects shows them`,
      );
    }
    for (const dir of [...this.dirs].reverse()) {
      const file = path.resolve(dir, `${name}.yaml`);
      try {
        // stat, not a read: a FIFO or /dev/zero in a dialect folder must not hold the caller.
        await stat(file);
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

  /** Resolve `extends` and compile; the error names every field that is wrong, where it is written. */
  async compile(source: DialectSource, options: CompileOptions = {}): Promise<Dialect> {
    const merged = await this.resolveExtends(source.data, source, [source.data.name]);
    // Only a file that ships with this program keeps V8's regex engine (pattern.ts).
    const trusted = path.dirname(path.resolve(source.file)) === path.resolve(BUILTIN_DIALECT_DIR);
    try {
      return compileDialect(merged, source.file, { trusted, ...options });
    } catch (error) {
      if (!(error instanceof DialectCompileError)) throw error;
      throw new DialectError(error.problems.map((p) => `${source.locate(p.path)}: ${p.message}`).join('\n'));
    }
  }

  private async load(name: string): Promise<Dialect> {
    return this.compile(await this.read(await this.fileOf(name)));
  }

  private async resolveExtends(
    file: DialectFile,
    from: Pick<DialectSource, 'file' | 'locate'>,
    chain: string[],
  ): Promise<DialectFile> {
    if (!file.extends) return file;
    const source = from.file;
    const at = from.locate(['extends']);
    const parentName = file.extends;
    // A dialect may extend the built-in it overrides (same name): its parent is then looked up in the
    // folders before this file's, which is no cycle.
    const overridesParent = parentName === file.name;
    if (!overridesParent && chain.includes(parentName)) {
      throw new DialectError(`${at}: extends: cycle ${[...chain, parentName].join(' -> ')}`);
    }
    let parentFile: string;
    try {
      parentFile = overridesParent
        ? await this.fileBefore(parentName, source)
        : await this.fileOf(parentName);
    } catch (error) {
      throw new DialectError(`${at}: extends: ${(error as Error).message}`);
    }
    const parent = await this.read(parentFile);
    const resolvedParent = await this.resolveExtends(parent.data, parent, [...chain, parentName]);
    return mergeDialectFiles(resolvedParent, file);
  }

  private read(file: string): Promise<DialectSource> {
    let source = this.sources.get(file);
    if (!source) {
      source = readDialectFile(file);
      this.sources.set(file, source);
      source.catch(() => this.sources.delete(file));
    }
    return source;
  }

  private async fileBefore(name: string, source: string): Promise<string> {
    const dirs = this.dirs.filter((dir) => path.resolve(dir) !== path.dirname(path.resolve(source)));
    return new DialectRegistry(dirs).fileOf(name);
  }
}

/**
 * A dialect as a person names it on the command line: a file (a path, or a name ending in .yaml), or the
 * name of a dialect in the folders, which gives the file the server would load.
 */
export async function dialectFileOf(
  argument: string,
  dirs: string[] = defaultDialectDirs(),
): Promise<string> {
  if (/\.ya?ml$/.test(argument) || argument.includes('/') || argument.includes(path.sep)) return argument;
  return new DialectRegistry(dirs).fileOf(argument);
}
