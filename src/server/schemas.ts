import { z } from 'zod';

/** Input fields several tools share. */
export const host = z
  .string()
  .min(1)
  .max(1024) // a DNS name is at most 253; room for user@host:port and inventory names, not for megabytes
  .describe('Inventory name, ssh alias, hostname/IP, or session id user@host:port.');
export const username = z.string().min(1).max(256).optional();
export const port = z.number().int().min(1).max(65535).optional();
export const commandId = z.string().min(1).max(64).describe('cmd-N');

/**
 * The fields that open (or find) a session: execute_command and the file tools log in the same way, so they
 * take the same fields; execute_command describes them once, the file tools leave them bare.
 */
const described = (text: string | undefined) =>
  text === undefined ? z.string().optional() : z.string().optional().describe(text);

export function connectionInput(describe?: { password: string; keyFilename: string; keyPassphrase: string }) {
  return {
    host,
    username,
    port,
    password: described(describe?.password),
    key_filename: described(describe?.keyFilename),
    key_passphrase: described(describe?.keyPassphrase),
  };
}

/** Addresses an open session the way the seed project does: host, username, port (or an alias or id). */
export const sessionAddress = {
  host: host.describe('Host of the session, or its id user@host:port.'),
  username,
  port,
};

export const commandStatus = z.enum(['running', 'awaiting_input', 'completed', 'interrupted', 'failed']);

export const waiting = z
  .object({
    prompt: z.string(),
    kind: z.string().describe('password, yes_no, press_key, pager, question'),
  })
  .optional();

export const commandSummary = z.object({
  commandId: z.string(),
  session: z.string(),
  command: z.string(),
  status: commandStatus,
  exitCode: z.number().int().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  durationMs: z.number(),
  totalBytes: z.number().int(),
  error: z.string().optional(),
});

/** Where a list resumes: a list cut to fit a result gives nextOffset and says so in its note. */
export const listOffset = z.number().int().min(0).default(0);

/** The output fields of a list cut to fit a result (ListPage.paging). */
export const listPaging = {
  nextOffset: z.number().int().optional().describe('More follow: pass as offset to see them.'),
  note: z.string().optional().describe('How many were left out of this result, and how to see them.'),
};
