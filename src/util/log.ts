import { redact } from './secrets.js';

/** stdout belongs to MCP; every log line goes to stderr, with known secrets masked. */
const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;
/** Facts a line carries besides its message: one JSON key each, or `key=value` in text. */
export type LogFields = Record<string, string | number | boolean | undefined>;

let format: 'text' | 'json' = process.env.MCP_SSH_SESSION_LOG_FORMAT === 'json' ? 'json' : 'text';
let defaultLevel: LogLevel = 'warn';

/**
 * A shared server logs one JSON object a line, for a log collector; a laptop's stdio server logs text. The
 * environment's MCP_SSH_SESSION_LOG_FORMAT / _LEVEL win over what the command asks for.
 */
export function configureLog(options: { format?: 'text' | 'json'; level?: LogLevel }): void {
  if (options.format && !process.env.MCP_SSH_SESSION_LOG_FORMAT) format = options.format;
  if (options.level) defaultLevel = options.level;
}

function threshold(): number {
  const wanted = process.env.MCP_SSH_SESSION_LOG_LEVEL as LogLevel | undefined;
  return LEVELS[wanted ?? defaultLevel] ?? LEVELS[defaultLevel];
}

function write(level: LogLevel, message: string, fields?: LogFields, always = false): void {
  if (!always && LEVELS[level] > threshold()) return;
  const time = new Date().toISOString();
  if (format === 'json') {
    const line = JSON.stringify({ time, level, msg: message, ...fields }, (_key, value) =>
      typeof value === 'string' ? redact(value) : value,
    );
    process.stderr.write(`${line}\n`);
    return;
  }
  let text = message;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined)
      text += ` ${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : value}`;
  }
  process.stderr.write(`${time} ${level} ${redact(text)}\n`);
}

export const log = {
  error: (m: string, fields?: LogFields) => write('error', m, fields),
  warn: (m: string, fields?: LogFields) => write('warn', m, fields),
  info: (m: string, fields?: LogFields) => write('info', m, fields),
  debug: (m: string, fields?: LogFields) => write('debug', m, fields),
  /** Where a server listens: printed whatever the level, since nobody could find a port 0 server else. */
  announce: (m: string, fields?: LogFields) => write('info', m, fields, true),
};
