import { z } from 'zod';
import { parseYamlSource } from '../util/yaml-source.js';

/**
 * A transcript is one shell session as the device saw it: every byte each way with its time, what the
 * caller asked for, and what came of it. One YAML document, `transcript: 1` first, then `events`.
 * Recordings write each event as one flow-style line (JSON is valid YAML), so a file cut off mid-write is
 * still readable up to its last whole line; hand-written ones may use block style. docs/transcripts.md.
 */
export const TRANSCRIPT_VERSION = 1;

/** A secret typed into the session, as it is stored: `{{secret:enable}}`. */
export const secretPlaceholder = (name: string) => `{{secret:${name}}}`;
export const SECRET_PLACEHOLDER = /\{\{secret:([a-z][a-z0-9_-]*)\}\}/g;

const seconds = z.number().min(0).describe('Seconds since the session opened.');

const ptySchema = z.union([
  z.literal(false),
  z
    .object({
      term: z.string().default('vt100'),
      cols: z.number().int().positive(),
      rows: z.number().int().positive(),
    })
    .strict(),
]);

const resultSchema = z
  .object({
    status: z.string().optional(),
    mode: z.string().optional(),
    exit: z.number().int().nullable().optional(),
    error: z.string().optional(),
    output: z.string().optional(),
  })
  .strict();

const t = { t: seconds.optional() };
const eventSchema = z.union([
  z.object({ ...t, out: z.string() }).strict(),
  z.object({ ...t, out_b64: z.string().base64() }).strict(),
  z.object({ ...t, in: z.string() }).strict(),
  z
    .object({
      ...t,
      command: z.string(),
      /** The mode the caller asked for first (e.g. privileged, for an enable secret). */
      enter: z.string().optional(),
      /** This command is not one the device knows: its answer is the device's "unknown command" answer. */
      unknown: z.boolean().optional(),
    })
    .strict(),
  z.object({ ...t, result: resultSchema }).strict(),
  z.object({ ...t, mode: z.string() }).strict(),
  z.object({ ...t, dialect: z.string() }).strict(),
  z
    .object({
      ...t,
      resize: z.object({ cols: z.number().int().positive(), rows: z.number().int().positive() }).strict(),
    })
    .strict(),
  z.object({ ...t, close: z.object({ exit: z.number().int().nullable().optional() }).strict() }).strict(),
  z.object({ ...t, note: z.string() }).strict(),
]);

export const transcriptSchema = z
  .object({
    transcript: z.literal(TRANSCRIPT_VERSION),
    recorded: z.string().optional().describe('When it was recorded (ISO 8601).'),
    device: z.string().optional().describe('What the device is: model and software release.'),
    source: z
      .string()
      .optional()
      .describe('Where the transcript comes from (recorded by whom, or a public source).'),
    host: z.string().optional().describe('The host name or alias it was recorded from.'),
    dialect: z.string().optional().describe('The dialect that drove the session when it was recorded.'),
    channel: z
      .object({
        type: z.enum(['shell', 'exec']),
        command: z.string().optional(),
        pty: ptySchema.default(false),
      })
      .strict()
      .default({ type: 'shell', pty: { term: 'vt100', cols: 511, rows: 24 } }),
    events: z.array(eventSchema),
  })
  .strict();

export type Transcript = z.infer<typeof transcriptSchema>;
export type TranscriptEvent = Transcript['events'][number];
export type TranscriptResult = z.infer<typeof resultSchema>;
export type TranscriptHeader = Omit<Transcript, 'events'>;

export class TranscriptError extends Error {}

/**
 * Read a transcript; every error names the file, line and column, and says what to fix. A recording that
 * stops without a `close` event (the recorder was killed) is still valid up to its last whole event.
 */
export function parseTranscript(text: string, file: string): Transcript {
  const source = parseYamlSource(text, file);
  if (source.syntaxError) {
    throw new TranscriptError(
      `${source.syntaxError} (a transcript is YAML; a recording cut off mid-line can be mended by deleting its last line)`,
    );
  }
  const data = source.data as { transcript?: unknown } | null;
  if (data === null || typeof data !== 'object') {
    throw new TranscriptError(
      `${file}: not a transcript: expected a YAML mapping starting with "transcript: 1"`,
    );
  }
  if (data.transcript !== TRANSCRIPT_VERSION) {
    throw new TranscriptError(
      `${source.locate(['transcript'])}: transcript: this is ${
        data.transcript === undefined
          ? 'not a transcript (no "transcript:" version field)'
          : `version ${JSON.stringify(data.transcript)}`
      }; this mcp-ssh-session reads version ${TRANSCRIPT_VERSION}`,
    );
  }
  const parsed = transcriptSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.path.join('.') || '(top level)';
    const hint =
      issue.path[0] === 'events' && issue.path.length === 2
        ? ' (each event has one of: out, out_b64, in, command, result, mode, dialect, resize, close, note; and optionally t)'
        : '';
    throw new TranscriptError(
      `${source.locate(issue.path as PropertyKey[])}: ${field}: ${issue.message}${hint}`,
    );
  }
  const transcript = parsed.data;
  let last = 0;
  transcript.events.forEach((event, i) => {
    if (event.t === undefined) return;
    if (event.t < last) {
      throw new TranscriptError(
        `${source.locate(['events', i, 't'])}: events.${i}.t: ${event.t} is earlier than the event before it (${last}); times only go forward`,
      );
    }
    last = event.t;
  });
  return transcript;
}

/** Characters written as escapes: JSON leaves DEL, C1 controls and the Unicode line separators raw. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/** One event as one YAML flow line (JSON with the characters YAML would mind escaped). */
export function eventLine(event: TranscriptEvent): string {
  const json = JSON.stringify(event).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `  - ${json}\n`;
}

/** The header of a recording, up to and including `events:`; events follow, one `eventLine` each. */
export function headerText(header: Partial<Omit<TranscriptHeader, 'transcript'>>): string {
  const lines = [`transcript: ${TRANSCRIPT_VERSION}`];
  for (const [key, value] of Object.entries(header)) {
    if (value !== undefined) lines.push(`${key}: ${JSON.stringify(value)}`);
  }
  return `# mcp-ssh-session transcript: docs/transcripts.md\n${lines.join('\n')}\nevents:\n`;
}

/** The bytes an output event stands for. */
export function outBytes(event: TranscriptEvent): Buffer | undefined {
  if ('out' in event) return Buffer.from(event.out, 'utf8');
  if ('out_b64' in event) return Buffer.from(event.out_b64, 'base64');
  return undefined;
}
