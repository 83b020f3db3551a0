import { z } from 'zod';

/** The shape of a dialect YAML file. Field names are snake_case because network engineers write them. */

const regexSource = z.string().min(1).describe('A JavaScript regular expression (no surrounding slashes).');
const template = z
  .string()
  .describe('Text with {{name}} placeholders, optionally filtered: {{command|shell_quote}}.');

const channel = z
  .object({
    type: z
      .enum(['exec', 'shell'])
      .describe('exec: run `command` on an exec channel; shell: open the login shell or device CLI.'),
    pty: z
      .union([
        z.literal(false),
        z.object({
          term: z.string().default('vt100'),
          cols: z.number().int().positive().default(511),
          rows: z.number().int().positive().default(24),
        }),
      ])
      .default(false)
      .describe('false for no terminal (fastest, exact bytes); a terminal for device CLIs that need one.'),
    command: z.string().optional().describe('The command an exec channel runs.'),
  })
  .strict()
  .refine((c) => c.type !== 'exec' || c.command, { message: 'an exec channel needs `command`' });

const markerCompletion = z
  .object({
    strategy: z.literal('marker'),
    send: template.describe(
      'What is sent for each command. Placeholders: command, marker_head, marker_tail (the marker split in two so the sent text never matches by itself).',
    ),
    match: regexSource.describe(
      'Where the command ends in what comes back; {{marker}} is the per-command marker. A named group `status` carries the exit status.',
    ),
  })
  .strict();

const step = z
  .object({
    send: template.describe('A command to run once the channel is open.'),
    capture: z
      .record(z.string().regex(/^[a-z_][a-z0-9_]*$/i), regexSource)
      .optional()
      .describe('Variables to learn from the output: name → regex whose first group is the value.'),
  })
  .strict();

const interrupt = z
  .object({
    send: z
      .string()
      .optional()
      .describe('Bytes written to the channel, e.g. "\\u0003" for Ctrl+C on a terminal.'),
    exec: template.optional().describe('A command run on a second channel of the same connection.'),
    force_exec: template
      .optional()
      .describe(
        'Run on a second channel when the command ignored the interrupt for grace_ms: ends it for good.',
      ),
    grace_ms: z
      .number()
      .int()
      .positive()
      .default(2000)
      .describe('How long to wait for the command to end before the shell is restarted.'),
  })
  .strict()
  .refine((i) => i.send !== undefined || i.exec !== undefined, { message: 'give `send` or `exec`' });

export const dialectFileSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'),
    description: z.string(),
    channel,
    line_ending: z.string().default('\n').describe('What ends a line sent to the device.'),
    completion: markerCompletion,
    on_open: z.array(step).default([]),
    interrupt,
  })
  .strict();

export type DialectFile = z.infer<typeof dialectFileSchema>;
