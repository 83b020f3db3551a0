import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { HostSummary } from '../../config/inventory.js';
import type { LoadedConfig } from '../../config/load.js';
import { defaultSshPaths, listSshAliases, type SshPaths } from '../../ssh/index.js';
import { entryRoom, listPage } from '../result-budget.js';
import { listOffset, listPaging } from '../schemas.js';
import { addTool, resultBudget } from '../tool-result.js';

const hostSchema = z.object({
  name: z.string().describe('Pass as host.'),
  source: z.enum(['inventory', 'ssh_config']),
  host: z.string().optional(),
  port: z.number().int().optional(),
  user: z.string().optional(),
  dialect: z.string().optional(),
  jump: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  groups: z.array(z.string()),
  policy: z.string().optional().describe('Command policy summary.'),
  secrets: z.record(z.string(), z.string()).optional().describe('Which are configured (no values).'),
});

type HostRow = z.infer<typeof hostSchema>;

/** list_hosts and the inventory://hosts resource: the hosts an agent can name, never a secret. */
export function registerHostTools(
  server: McpServer,
  config: LoadedConfig | undefined,
  sshPaths?: SshPaths,
): void {
  const rows = async (): Promise<HostRow[]> => {
    const inventory: HostRow[] = (config?.inventory.list() ?? []).map((h: HostSummary) => ({
      ...h,
      source: 'inventory',
    }));
    const known = new Set(inventory.map((h) => h.name));
    const aliases = await listSshAliases(sshPaths ?? defaultSshPaths()).catch(() => []);
    return [
      ...inventory,
      ...aliases
        .filter((a) => !known.has(a))
        .map((name): HostRow => ({ name, source: 'ssh_config', tags: [], groups: [] })),
    ];
  };

  addTool(
    server,
    'list_hosts',
    {
      title: 'List known hosts',
      description:
        'Hosts known by name: the config inventory (dialect, tags, groups, policy) and ~/.ssh/config aliases. No secrets.',
      inputSchema: {
        tag: z.string().optional(),
        group: z.string().optional(),
        offset: listOffset,
      },
      outputSchema: {
        hosts: z.array(hostSchema),
        configFile: z.string().optional(),
        ...listPaging,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const hosts = (await rows()).filter(
        (h) => (!args.tag || h.tags.includes(args.tag)) && (!args.group || h.groups.includes(args.group)),
      );
      const line = (h: HostRow) => {
        const details = [
          h.host && h.host !== h.name
            ? `${h.user ? `${h.user}@` : ''}${h.host}${h.port ? `:${h.port}` : ''}`
            : '',
          h.dialect ?? '',
          h.tags.length > 0 ? `tags ${h.tags.join(',')}` : '',
          h.groups.length > 0 ? `groups ${h.groups.join(',')}` : '',
          h.policy && h.policy !== 'none' ? `policy ${h.policy}` : '',
          h.source === 'ssh_config' ? 'from ~/.ssh/config' : '',
        ].filter(Boolean);
        return `${h.name}${details.length > 0 ? ` (${details.join('; ')})` : ''}${h.description ? `: ${h.description}` : ''}`;
      };
      const filters = [
        args.tag !== undefined ? `tag=${JSON.stringify(args.tag)}` : '',
        args.group !== undefined ? `group=${JSON.stringify(args.group)}` : '',
      ].filter(Boolean);
      const page = listPage({
        entries: hosts.slice(args.offset),
        offset: args.offset,
        total: hosts.length,
        budget: entryRoom(resultBudget(server)),
        line,
        call: (next) => `list_hosts(${[...filters, `offset=${next}`].join(', ')})`,
        empty: `No hosts${args.tag || args.group ? ' match' : ' are configured'}.${config ? '' : ' (No config file is loaded.)'}`,
      });
      return {
        structured: { hosts: page.shown, ...(config && { configFile: config.file }), ...page.paging },
        text: page.text,
      };
    },
  );

  server.registerResource(
    'inventory',
    'inventory://hosts',
    {
      title: 'Host inventory',
      description: 'The hosts list_hosts shows, as JSON (no secrets).',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ hosts: await rows() }, null, 2),
        },
      ],
    }),
  );
}
