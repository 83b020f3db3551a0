import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { log } from '../util/log.js';
import { SshError } from './errors.js';
import { glob } from './glob.js';
import { expandTilde, type SshPaths } from './paths.js';
import { matchPatternList } from './patterns.js';

/** OpenSSH's READCONF_MAX_DEPTH: deeper nesting is almost certainly an Include cycle. */
const MAX_INCLUDE_DEPTH = 16;

/** The block a line belongs to: none yet (top level), a `Host` block (active or not) or a `Match` block. */
interface Block {
  header: string | undefined;
  /** Whether the block applies to the host being resolved; undefined = decided later (Match). */
  active: boolean | undefined;
}

/**
 * Reads the user's ssh config with every `Include` expanded, as seen when resolving `host`, and parses it.
 * The ssh-config package does not follow Include itself. A missing config file is an empty config.
 */
export async function loadSshConfig(paths: SshPaths, host: string): Promise<SSHConfig> {
  const out: string[] = [];
  await expandFile(paths.sshConfig, host, paths, 0, out, { header: undefined, active: true });
  return SSHConfig.parse(out.join('\n'));
}

/**
 * Copies `file` into `out` line by line, splicing included files in place. The result depends on `host`
 * because OpenSSH evaluates an Include inside a `Host` block only when that block matches; splicing the
 * file at top level is then equivalent, as long as the enclosing block header is repeated after it.
 */
async function expandFile(
  file: string,
  host: string,
  paths: SshPaths,
  depth: number,
  out: string[],
  inherited: Block,
): Promise<void> {
  const text = await readConfigText(file);
  if (text === undefined) return;
  let block = inherited;
  for (const line of text.split(/\r?\n/)) {
    const directive = parseDirective(line);
    const keyword = directive?.keyword.toLowerCase();
    if (keyword === 'host') {
      block = { header: line, active: matchPatternList(directive?.args ?? [], host) };
    } else if (keyword === 'match') {
      block = { header: line, active: undefined };
    } else if (keyword === 'include' && directive) {
      if (block.active === false) continue; // OpenSSH: nothing in it can apply to this host
      if (depth + 1 >= MAX_INCLUDE_DEPTH) {
        throw new SshError(
          'config',
          `Too many nested Include directives in ${file} (limit ${MAX_INCLUDE_DEPTH}); is there an Include cycle?`,
          'Fix the Include directives in your ssh config.',
        );
      }
      for (const pattern of directive.args) {
        for (const included of await glob(includePath(pattern, paths))) {
          await expandFile(included, host, paths, depth + 1, out, block);
        }
      }
      // Back in the including block: an included file may have ended inside a Host or Match of its own.
      // Inside a Match, the included file's own Host blocks end up unconditional (a known approximation).
      out.push(block.header ?? 'Host *');
      continue;
    }
    out.push(line);
  }
}

/** Relative Include paths are relative to ~/.ssh (for the user's config, which is all we read). */
function includePath(pattern: string, paths: SshPaths): string {
  const path = expandTilde(pattern, paths.home);
  return isAbsolute(path) ? path : join(paths.home, '.ssh', path);
}

async function readConfigText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') log.warn(`cannot read ssh config ${file}: ${String(err)}`);
    return undefined;
  }
}

/** `Keyword args...` or `Keyword=args...`; args split on white space, double quotes group. */
function parseDirective(line: string): { keyword: string; args: string[] } | undefined {
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=|\s)\s*(.*)$/.exec(line);
  if (!m?.[1]) return undefined;
  const args: string[] = [];
  for (const t of (m[2] ?? '').matchAll(/"([^"]*)"|(\S+)/g)) {
    if (t[2]?.startsWith('#')) break; // trailing comment
    args.push(t[1] ?? t[2] ?? '');
  }
  return { keyword: m[1], args };
}

/** The plain aliases of ~/.ssh/config (Host names without wildcards or negation), for listings. */
export async function listSshAliases(paths: SshPaths): Promise<string[]> {
  const out: string[] = [];
  // Includes at top level are followed; those inside a Host block belong to that host only.
  await expandFile(paths.sshConfig, '', paths, 0, out, { header: undefined, active: true });
  const aliases = new Set<string>();
  for (const line of out) {
    const directive = parseDirective(line);
    if (directive?.keyword.toLowerCase() !== 'host') continue;
    for (const name of directive.args) if (!/[*?!]/.test(name)) aliases.add(name);
  }
  return [...aliases];
}
