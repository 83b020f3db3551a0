import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { closest } from '../util/suggest.js';

/**
 * The tool sets a deployment chooses from (`--tools`, MCP_SSH_TOOLS, the config key `tools`), like the
 * GitHub MCP server's toolsets: every tool a client lists costs the model context on every turn, so a
 * server offers what its agents use and no more. Each tool is in exactly one set.
 */
export const TOOLSETS = {
  commands: {
    about: 'run a command and follow it: its output, prompts it asks, Ctrl+C',
    tools: ['execute_command', 'get_command_status', 'send_input', 'interrupt_command'],
  },
  background: {
    about: 'commands started in the background, and the lists of running and recent commands',
    tools: [
      'execute_command_async',
      'interrupt_command_by_id',
      'list_running_commands',
      'get_active_commands',
      'list_command_history',
    ],
  },
  interactive: {
    about: 'full-screen programs: keys in, the terminal screen out',
    tools: ['send_keys', 'read_screen'],
  },
  sessions: {
    about: 'the open sessions: list and close them',
    tools: ['list_sessions', 'close_session', 'close_all_sessions'],
  },
  files: {
    about: 'files over SFTP: read, write, list, upload and download',
    tools: ['read_file', 'write_file', 'list_directory', 'upload_file', 'download_file'],
  },
  inventory: {
    about: 'the hosts and dialects this server knows',
    tools: ['list_hosts', 'list_dialects'],
  },
  config: {
    about: 'network device configuration changes: candidate, diff, commit (confirmed), discard, rollback',
    tools: ['configure', 'confirm_commit', 'discard_changes', 'rollback', 'get_config_state'],
  },
  fleet: {
    about: 'one command on many hosts at once, answers grouped by identical output',
    tools: ['execute_on_hosts', 'get_fanout_status', 'cancel_fanout'],
  },
} as const satisfies Record<string, { about: string; tools: readonly string[] }>;

export type ToolsetName = keyof typeof TOOLSETS;

export const TOOLSET_NAMES = Object.keys(TOOLSETS) as ToolsetName[];

/**
 * What a server offers when nothing is chosen: running commands and what they need, in well under 16,000
 * characters of tools/list. The file tools (more than the sessions and inventory sets together) are one
 * `--tools default,files` away.
 */
export const DEFAULT_TOOLSETS: readonly ToolsetName[] = ['commands', 'sessions', 'inventory'];

/**
 * What read-only hides: tools that change files, here or on a host, which no command policy governs.
 * execute_command (and the tools that type into a command) stay: the command policy decides what they may
 * run, and its `read-only` preset is what makes a host read-only (docs/command-policy.md). Interrupting or
 * closing the server's own commands and sessions changes nothing on a host that was not started there.
 */
export const CHANGING_TOOLS: ReadonlySet<string> = new Set([
  'write_file',
  'upload_file',
  'download_file',
  // They change a device's configuration (its lines pass the command policy too).
  'configure',
  'confirm_commit',
  'discard_changes',
  'rollback',
]);

/** The set each tool is in. */
const SET_OF: ReadonlyMap<string, ToolsetName> = new Map(
  TOOLSET_NAMES.flatMap((set) => TOOLSETS[set].tools.map((tool) => [tool, set] as const)),
);

export const ALL_TOOLS: readonly string[] = [...SET_OF.keys()];

/** A tool selection that names what does not exist; the message lists what does. */
export class ToolsetError extends Error {
  override name = 'ToolsetError';
}

export interface ToolChoice {
  /** Set names, tool names, `default` and `all`; undefined: the default sets. */
  names?: readonly string[];
  /** Hide CHANGING_TOOLS, whatever the names select. */
  readOnly?: boolean;
}

export interface ToolSelection {
  /** The names chosen, as given (for the log and error messages). */
  readonly names: readonly string[];
  readonly readOnly: boolean;
  /** The tools offered. */
  readonly tools: ReadonlySet<string>;
  /** Why a tool of this server is not offered; undefined for one that is, or that does not exist. */
  whyHidden(tool: string): string | undefined;
}

/** `a, b,c` as a list of names; empty entries dropped. */
export function splitNames(raw: string): string[] {
  return raw
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
}

/** What every unknown-name message ends with. */
export function validNames(): string {
  return `tool sets: ${TOOLSET_NAMES.join(', ')}; also default (${DEFAULT_TOOLSETS.join(',')}), all, or a tool's own name (such as read_file)`;
}

function toolsOf(name: string): readonly string[] {
  if (name === 'all') return ALL_TOOLS;
  if (name === 'default') return DEFAULT_TOOLSETS.flatMap((set) => TOOLSETS[set].tools);
  if (Object.hasOwn(TOOLSETS, name)) return TOOLSETS[name as ToolsetName].tools;
  if (SET_OF.has(name)) return [name];
  const guess = closest(name, [...TOOLSET_NAMES, 'default', 'all', ...ALL_TOOLS]);
  throw new ToolsetError(
    `unknown tool set "${name.slice(0, 60)}"${guess ? ` (did you mean "${guess}"?)` : ''}; ${validNames()}`,
  );
}

/** The tools a server offers for this choice. Throws ToolsetError for a name that is not a set or a tool. */
export function selectTools(choice: ToolChoice = {}): ToolSelection {
  const names = choice.names ?? ['default'];
  if (names.length === 0) throw new ToolsetError(`no tool set given; ${validNames()}`);
  const readOnly = choice.readOnly ?? false;
  const chosen = new Set(names.flatMap(toolsOf));
  const tools = new Set([...chosen].filter((tool) => !(readOnly && CHANGING_TOOLS.has(tool))));
  if (tools.size === 0)
    throw new ToolsetError(
      `${names.join(',')} offers no tool once read-only hides ${[...chosen].join(', ')}`,
    );
  const label = names.join(',');
  return {
    names,
    readOnly,
    tools,
    whyHidden(tool) {
      const set = SET_OF.get(tool);
      if (set === undefined || tools.has(tool)) return undefined;
      if (chosen.has(tool))
        return `${tool} changes ${set === 'config' ? 'device configuration' : 'files'}, and this server is read-only (--read-only or security.read_only in the config file)`;
      return `${tool} is in the tool set "${set}", which this server does not offer (its tool sets: ${label}); the user can add it with --tools ${label},${set}, MCP_SSH_TOOLS or the config key \`tools\``;
    },
  };
}

/**
 * A server's selection narrowed to what one user's roles offer: a tool stays when one role's choice (its
 * own names, else the server's, minus changing tools for a read-only role) has it.
 */
export function narrowTools(base: ToolSelection, roles: readonly ToolChoice[], who: string): ToolSelection {
  const offered = new Set<string>();
  for (const role of roles) {
    for (const tool of new Set((role.names ?? base.names).flatMap(toolsOf))) {
      if (!(role.readOnly && CHANGING_TOOLS.has(tool))) offered.add(tool);
    }
  }
  const tools = new Set([...base.tools].filter((tool) => offered.has(tool)));
  if (tools.size === 0) throw new ToolsetError(`${who}'s roles leave no tool of this server`);
  return {
    names: base.names,
    readOnly: base.readOnly || roles.every((role) => role.readOnly),
    tools,
    whyHidden(tool) {
      const why = base.whyHidden(tool);
      if (why !== undefined || !SET_OF.has(tool) || tools.has(tool)) return why;
      return `${tool} is not among the tools ${who}'s roles may use; an administrator grants it in the config's roles`;
    },
  };
}

/** registerTool without its generics, which TypeScript cannot take apart. */
type Register = (name: string, ...rest: unknown[]) => RegisteredTool | undefined;

/**
 * Registers from now on only the tools the selection offers: the others are left out of tools/list and
 * cannot be called. A tool in no set is a mistake in TOOLSETS, reported when the server is made.
 * Install it after recordToolInputs, so that the arguments of a tool left out are not recorded either.
 */
export function offerOnly(server: McpServer, selection: ToolSelection): void {
  const register = server.registerTool.bind(server) as unknown as Register;
  const offering: Register = (name, ...rest) => {
    if (!SET_OF.has(name))
      throw new Error(`tool ${name} is in no tool set: add it to TOOLSETS (toolsets.ts)`);
    return selection.tools.has(name) ? register(name, ...rest) : undefined;
  };
  server.registerTool = offering as unknown as McpServer['registerTool'];
}
