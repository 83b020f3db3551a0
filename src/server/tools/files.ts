import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ServerLimits } from '../../config/limits.js';
import type { LoadedConfig } from '../../config/load.js';
import { jsonEncodedBytes } from '../../expect/output.js';
import { listRemote } from '../../files/list.js';
import { allowedLocalDirs } from '../../files/paths.js';
import { pathRulesOfHost } from '../../files/policy.js';
import { readRemote } from '../../files/read.js';
import type { RemoteContext } from '../../files/remote.js';
import { download, type TransferResult, upload } from '../../files/transfer.js';
import { writeRemote } from '../../files/write.js';
import type { SessionManager } from '../../session/manager.js';
import { lookupSecret } from '../../session/secrets.js';
import { sftpOf } from '../../ssh/sftp.js';
import { throttledProgress } from '../progress.js';
import { callBudget, contentRoom, entryRoom, listPage } from '../result-budget.js';
import { connectionInput, listOffset, listPaging } from '../schemas.js';
import type { SecretPrompter } from '../secret-prompt.js';
import { refuseToolSecrets, registerToolSecrets, secretAsker, targetOf } from '../tool-args.js';
import { addTool, type Extra, resultBudget } from '../tool-result.js';

const connection = connectionInput();
const sudoFields = {
  use_sudo: z.boolean().optional().describe('On permission denied, retry with sudo; false: never.'),
  sudo_password: z.string().optional().describe('Implies use_sudo.'),
};
const encoding = z.enum(['utf8', 'base64']).default('utf8').describe('base64 for binary.');
const remote_path = z.string().min(1).describe('~ is the login folder.');
const permissions = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, 'octal, such as "0644" or "755"')
  .optional()
  .describe('Octal, e.g. "0644"; default: the old mode, else 0644.');

/** read_file, write_file, list_directory, upload_file and download_file, over the session's connection. */
export function registerFileTools(
  server: McpServer,
  manager: SessionManager,
  prompter: SecretPrompter,
  limits: Pick<ServerLimits, 'maxReadBytes' | 'maxTransferBytes' | 'maxWaitMs'>,
  config?: LoadedConfig,
): void {
  const maxRead = limits.maxReadBytes;
  const maxTransfer = limits.maxTransferBytes;
  const localDirs = allowedLocalDirs(config?.files.localDirs);

  type Args = z.infer<z.ZodObject<typeof connection>> & { use_sudo?: boolean; sudo_password?: string };
  /** The connection, SFTP channel, home and rules for a call, with the same secret rules as execute_command. */
  const contextOf = async (args: Args): Promise<RemoteContext> => {
    const deployment = manager.deployment;
    refuseToolSecrets(manager, args);
    registerToolSecrets(args);
    const { client, config: host } = await manager.connection(targetOf(args), {
      askSecret: secretAsker(prompter, args.host, limits.maxWaitMs),
    });
    const sftp = await sftpOf(client);
    // The host's own entry, whatever name reached it; rules of every entry that describes it.
    // Not asked for: a sudo that needs a password and has none says so (files/sudo.ts).
    const password = await lookupSecret('sudo', {
      given: args.sudo_password,
      config: deployment,
      host: host.name,
      whenMissing: 'leave',
    });
    return {
      client,
      sftp,
      home: await sftp.homeDir(),
      rules: pathRulesOfHost(config, host.policyNames),
      commandPolicy: deployment?.checksCommands(host.policyNames) ?? false,
      sudo: {
        allowed: args.use_sudo !== false && (args.use_sudo === true || password !== undefined),
        ...(password !== undefined && { password }),
      },
    };
  };

  const mode = (text: string | undefined) => (text === undefined ? undefined : Number.parseInt(text, 8));

  addTool(
    server,
    'read_file',
    {
      title: 'Read a remote file',
      description: `Read a file on the host over SFTP, up to ${maxRead} bytes a call: when truncated, read on with offset=nextOffset.`,
      inputSchema: {
        ...connection,
        remote_path,
        max_bytes: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(`Default: what fits a result; at most ${maxRead}.`),
        offset: z.number().int().min(0).default(0),
        encoding,
        ...sudoFields,
      },
      outputSchema: {
        path: z.string(),
        size: z.number().int(),
        offset: z.number().int(),
        bytes: z.number().int(),
        truncated: z.boolean().describe('The file goes on.'),
        nextOffset: z.number().int().optional(),
        encoding: z.enum(['utf8', 'base64']),
        content: z.string(),
        viaSudo: z.boolean(),
        note: z.string().optional(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const ctx = await contextOf(args);
      const budget = callBudget(resultBudget(server), args.max_bytes);
      const room = contentRoom(budget, { path: args.remote_path });
      // base64 takes 4 bytes for 3; text may take more JSON-encoded (control characters), then it is read again.
      let want = Math.min(
        args.max_bytes ?? maxRead,
        maxRead,
        args.encoding === 'base64' ? Math.floor((room * 3) / 4) : room,
      );
      const read = () =>
        readRemote(ctx, {
          path: args.remote_path,
          offset: args.offset,
          maxBytes: want,
          encoding: args.encoding,
        });
      let r = await read();
      for (let attempt = 0; attempt < 4 && r.bytes > 4 && jsonEncodedBytes(r.content) > room; attempt++) {
        want = Math.max(4, Math.floor((r.bytes * room) / jsonEncodedBytes(r.content) / 1.05));
        r = await read();
      }
      const tail = r.truncated ? `; truncated: read on with offset ${r.nextOffset}` : '';
      const line = `[${r.path}: bytes ${r.offset}-${r.offset + r.bytes} of ${r.size}${r.viaSudo ? ', via sudo' : ''}${tail}]`;
      return {
        structured: r,
        text: `${r.content}${r.content.endsWith('\n') || !r.content ? '' : '\n'}${line}${r.note ? `\nNote: ${r.note}` : ''}`,
        // Text is masked like command output; base64 is left whole (masking would corrupt the bytes).
        ...(r.encoding === 'base64' && { verbatim: ['content'] }),
        budget,
      };
    },
  );

  addTool(
    server,
    'write_file',
    {
      title: 'Write a remote file',
      description:
        'Write a file on the host over SFTP, atomically (readers never see half a file), or append to it.',
      inputSchema: {
        ...connection,
        remote_path,
        content: z.string(),
        encoding,
        append: z.boolean().default(false),
        make_dirs: z.boolean().default(false).describe('mkdir -p first.'),
        permissions,
        ...sudoFields,
      },
      outputSchema: {
        path: z.string(),
        bytes: z.number().int(),
        created: z.boolean(),
        mode: z.string(),
        viaSudo: z.boolean(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args) => {
      const ctx = await contextOf(args);
      const r = await writeRemote(ctx, {
        path: args.remote_path,
        data: Buffer.from(args.content, args.encoding),
        append: args.append,
        makeDirs: args.make_dirs,
        ...(args.permissions !== undefined && { permissions: mode(args.permissions) }),
      });
      const how = args.append ? 'Appended' : 'Wrote';
      return {
        structured: r,
        text: `${how} ${r.bytes} bytes to ${r.path} (mode ${r.mode}${r.created ? ', new file' : ''}${r.viaSudo ? ', via sudo' : ''}).`,
      };
    },
  );

  addTool(
    server,
    'list_directory',
    {
      title: 'List a remote folder',
      description: 'List a folder on the host over SFTP (at most 5000 entries, by name).',
      inputSchema: {
        ...connection,
        path: z.string().min(1).default('~'),
        offset: listOffset,
      },
      outputSchema: {
        path: z.string(),
        entries: z.array(
          z.object({
            name: z.string(),
            type: z.enum(['file', 'directory', 'symlink', 'fifo', 'socket', 'block', 'char', 'unknown']),
            size: z.number().int(),
            mode: z.string(),
            owner: z.string(),
            group: z.string(),
            mtime: z.string(),
          }),
        ),
        total: z.number().int(),
        truncated: z.boolean().describe('True when entries past these were left out.'),
        ...listPaging,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      const r = await listRemote(await contextOf(args), args.path, args.offset);
      const line = (e: (typeof r.entries)[number]) =>
        `${e.mode} ${e.owner}:${e.group} ${String(e.size).padStart(10)} ${e.mtime} ${e.name}${e.type === 'directory' ? '/' : ''}`;
      const page = listPage({
        entries: r.entries,
        offset: args.offset,
        total: r.total,
        budget: entryRoom(resultBudget(server)),
        line,
        call: (next) => `list_directory(path=${JSON.stringify(r.path)}, offset=${next})`,
        empty: '',
      });
      const structured = {
        path: r.path,
        entries: page.shown,
        total: r.total,
        truncated: page.paging.nextOffset !== undefined,
        ...page.paging,
      };
      return { structured, text: `${r.path}: ${r.total} entries\n${page.text}` };
    },
  );

  const transferInput = {
    ...connection,
    local_path: z.string().min(1).describe("Absolute path on the server's machine, in files.local_dirs."),
    remote_path,
    permissions,
  };
  const transferOutput = {
    local: z.string(),
    remote: z.string(),
    bytes: z.number().int(),
    durationMs: z.number(),
    mbPerSecond: z.number(),
  };
  const transferred = (r: TransferResult, verb: string) => {
    const mbPerSecond = Math.round((r.bytes / 1e6 / (r.durationMs / 1000)) * 10) / 10;
    const structured = { ...r, durationMs: Math.round(r.durationMs), mbPerSecond };
    return {
      structured,
      text: `${verb} ${r.bytes} bytes: ${r.local} ${verb === 'Uploaded' ? '->' : '<-'} ${r.remote} in ${structured.durationMs} ms (${mbPerSecond} MB/s).`,
    };
  };
  /** upload_file and download_file: the call's arguments as a transfer over the session's SFTP. */
  const transfer = async (
    move: typeof upload | typeof download,
    args: z.infer<z.ZodObject<typeof transferInput>> & { make_dirs?: boolean },
    extra: Extra,
  ): Promise<TransferResult> => {
    const ctx = await contextOf(args);
    const progress = throttledProgress(extra);
    const r = await move(ctx, {
      local: args.local_path,
      remote: args.remote_path,
      makeDirs: args.make_dirs ?? false,
      ...(args.permissions !== undefined && { permissions: mode(args.permissions) }),
      localDirs: await localDirs,
      maxBytes: maxTransfer,
      signal: extra.signal,
      onProgress: (done: number, total: number) => progress.update(done, total),
    });
    progress.update(r.bytes, r.bytes);
    await progress.end();
    return r;
  };

  addTool(
    server,
    'upload_file',
    {
      title: 'Upload a file to the host',
      description: `Copy a file from the server's machine to the host over SFTP (up to ${maxTransfer} bytes, atomically, with progress).`,
      inputSchema: {
        ...transferInput,
        make_dirs: z.boolean().default(false).describe('mkdir -p first.'),
      },
      outputSchema: transferOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra) => transferred(await transfer(upload, args, extra), 'Uploaded'),
  );

  addTool(
    server,
    'download_file',
    {
      title: 'Download a file from the host',
      description: `Copy a file from the host to the server's machine over SFTP (up to ${maxTransfer} bytes, atomically, with progress).`,
      inputSchema: transferInput,
      outputSchema: transferOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra) => transferred(await transfer(download, args, extra), 'Downloaded'),
  );
}
