import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { wildcard } from './patterns.js';

const hasWildcard = (s: string) => /[*?]/.test(s);

/**
 * A tiny glob(3) for ssh_config `Include` (Node 20 has no fs.glob): `*` and `?` in any component of an
 * absolute path, no brace or bracket expressions. Like the shell, a wildcard does not match a leading dot.
 * Returns the matching paths sorted lexically; a path without wildcards is returned as is, existing or not.
 */
export async function glob(absolutePath: string): Promise<string[]> {
  if (!hasWildcard(absolutePath)) return [absolutePath];
  const parts = absolutePath.split(sep).filter(Boolean);
  let bases: string[] = [sep];
  for (const part of parts) {
    if (!hasWildcard(part)) {
      bases = bases.map((b) => join(b, part));
      continue;
    }
    const re = wildcard(part);
    const next: string[] = [];
    for (const base of bases) {
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue; // not a directory, or unreadable: no matches here
      }
      for (const name of names) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(name)) next.push(join(base, name));
      }
    }
    bases = next;
  }
  return bases.sort();
}
