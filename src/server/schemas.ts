import { z } from 'zod';

/** Input fields several tools share. */
export const host = z
  .string()
  .min(1)
  .max(1024) // a DNS name is at most 253; room for user@host:port and inventory names, not for megabytes
  .describe(
    'Host name, IP address, an inventory name from the config file (list_hosts) or an alias from ~/.ssh/config. An open session id "user@host:port" works too.',
  );
export const username = z
  .string()
  .min(1)
  .max(256)
  .optional()
  .describe('SSH user; default: the inventory, then User from ~/.ssh/config, else the local user.');
export const port = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .optional()
  .describe('SSH port; default: the inventory, then Port from ~/.ssh/config, else 22.');
/**
 * The fields that open (or find) a session: execute_command and the file tools log in the same way, so they
 * take the same fields; each words the password and key for its own use.
 */
export function connectionInput(describe: { password: string; keyFilename: string }) {
  return {
    host,
    username,
    port,
    password: z.string().optional().describe(describe.password),
    key_filename: z.string().optional().describe(describe.keyFilename),
    key_passphrase: z.string().optional().describe('Passphrase of an encrypted private key.'),
  };
}
export const commandId = z.string().min(1).max(64).describe('A command id (cmd-N) from execute_command.');

/** Addresses an open session the way the seed project does: host, username, port (or an alias or id). */
export const sessionAddress = {
  host: host.describe(
    'The host (inventory name, alias, name or address) of the session, or its id "user@host:port".',
  ),
  username,
  port,
};

export const commandStatus = z
  .enum(['running', 'awaiting_input', 'completed', 'interrupted', 'failed'])
  .describe(
    'running: still going (it continues in the background); awaiting_input: it shows a prompt and waits (send_input); completed: ended with exitCode; interrupted: stopped by Ctrl+C; failed: its shell or session was lost.',
  );

export const waiting = z
  .object({
    prompt: z.string().describe('The prompt line the command shows.'),
    kind: z.string().describe('password, yes_no, press_key, pager or question (from the dialect).'),
  })
  .optional()
  .describe('Set while the command waits for input.');

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
  error: z.string().optional().describe('Why it failed (status failed), or the device error line.'),
});
