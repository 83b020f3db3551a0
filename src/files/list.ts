import { FileError, fileError } from './errors.js';
import { type RemoteContext, resolveRemote } from './remote.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char' | 'unknown';

export interface Entry {
  name: string;
  type: EntryType;
  size: number;
  /** Permission bits, octal like ls shows them to chmod: "0644". */
  mode: string;
  owner: string;
  group: string;
  /** ISO 8601. */
  mtime: string;
}

/** Most entries one result carries; a bigger folder says so instead of flooding the client. */
export const MAX_ENTRIES = 5_000;

const TYPES: [number, EntryType][] = [
  [0o040000, 'directory'],
  [0o100000, 'file'],
  [0o120000, 'symlink'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
  [0o060000, 'block'],
  [0o020000, 'char'],
];

const typeOf = (mode: number): EntryType =>
  TYPES.find(([bits]) => (mode & 0o170000) === bits)?.[1] ?? 'unknown';

/**
 * list_directory over SFTP. Owner and group names come from the server's `ls -l` style long name (SFTP v3
 * carries only numeric ids); where it cannot be parsed, the numeric id is given.
 */
export async function listRemote(ctx: RemoteContext, given: string, offset = 0) {
  const path = await resolveRemote(ctx, given);
  const stats = await ctx.sftp.stat(path).catch((e) => Promise.reject(fileError(e, path)));
  if (!stats.isDirectory()) throw new FileError(path, 'not a directory', 'read_file reads a file');
  const raw = await ctx.sftp.readdir(path).catch((e) => Promise.reject(fileError(e, path)));
  const all = raw
    .filter((e) => e.filename !== '.' && e.filename !== '..')
    .sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  const entries: Entry[] = all.slice(offset, offset + MAX_ENTRIES).map((e) => {
    const [, , owner, group] = e.longname.split(/\s+/);
    return {
      name: e.filename,
      type: typeOf(e.attrs.mode),
      size: e.attrs.size,
      mode: (e.attrs.mode & 0o7777).toString(8).padStart(4, '0'),
      owner: owner || String(e.attrs.uid),
      group: group || String(e.attrs.gid),
      mtime: new Date(e.attrs.mtime * 1000).toISOString(),
    };
  });
  return { path, entries, total: all.length, truncated: all.length > offset + entries.length };
}
