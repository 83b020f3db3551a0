import { redact } from './secrets.js';

/** stdout belongs to MCP; every log line goes to stderr, with known secrets masked. */
const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;

function threshold(): number {
  const wanted = process.env.MCP_SSH_SESSION_LOG_LEVEL as LogLevel | undefined;
  return LEVELS[wanted ?? 'warn'] ?? LEVELS.warn;
}

function write(level: LogLevel, message: string): void {
  if (LEVELS[level] > threshold()) return;
  process.stderr.write(`${new Date().toISOString()} ${level} ${redact(message)}\n`);
}

export const log = {
  error: (m: string) => write('error', m),
  warn: (m: string) => write('warn', m),
  info: (m: string) => write('info', m),
  debug: (m: string) => write('debug', m),
};
