/** One `mcp-ssh-session <name>` command: its help text and what it does. */
export interface CliCommand {
  name: string;
  /** One line for the command list in --help. */
  summary: string;
  /** The command's own --help. */
  usage: string;
  /** The help for these arguments, when it depends on them (a command group shows its subcommand's). */
  usageFor?(argv: string[]): string;
  /** Resolves with the exit status; throws UsageError for bad arguments. */
  run(argv: string[]): Promise<number>;
}

/** The command list of a --help: each name, padded to the longest, and its summary. */
export function commandList(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
}

/** Bad arguments: the message says what to fix; the command's usage is printed with it. */
export class UsageError extends Error {}

export function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/**
 * A listening address, for --http and --listen: `PORT`, `HOST:PORT` or `[IPv6]:PORT`; a bare port listens
 * on 127.0.0.1. `flag` names the option in the error.
 */
export function parseListen(flag: string, raw: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(raw.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new UsageError(
      `${flag} ${raw.slice(0, 60)}: give a port (8080) or HOST:PORT (0.0.0.0:8080, [::]:8080)`,
    );
  }
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}
