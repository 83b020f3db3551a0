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
 * How the file tools log in when the session is not open yet (execute_command has its own copy, whose
 * descriptions say it once).
 */
export const connection = {
  host,
  username,
  port,
  password: z.string().optional(),
  key_filename: z.string().optional(),
  key_passphrase: z.string().optional(),
};

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
