import { parseArgs } from 'node:util';
import { describeConfig } from '../config/describe.js';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { DialectRegistry, defaultDialectDirs } from '../dialect/loader.js';
import { checkRoles } from '../server/http/roles-check.js';
import { toolSelectionOf } from '../server/server.js';
import type { CliCommand } from './args.js';

/** Exit 0 with the resolved hosts, 1 with what is wrong. Dialect names are checked too. */
export const checkConfigCommand: CliCommand = {
  name: 'check-config',
  summary: 'validate a config file and print its hosts (no secrets)',
  usage: `mcp-ssh-session check-config [--config FILE]`,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
    let config: LoadedConfig | undefined;
    try {
      config = await loadConfig({ explicitPath: values.config });
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
    if (!config) {
      process.stdout.write(
        'No config file found (none is needed: hosts then come from ~/.ssh/config). Pass --config FILE to check one.\n',
      );
      return 0;
    }
    const dialects = new DialectRegistry(defaultDialectDirs(config.dialectPaths));
    const known = new Set(await dialects.names());
    const problems: string[] = [];
    for (const host of config.inventory.list()) {
      if (host.dialect !== undefined && !known.has(host.dialect)) {
        problems.push(
          `hosts.${host.name}: no dialect named "${host.dialect}" (known: ${[...known].join(', ')})`,
        );
      }
    }
    for (const check of [() => toolSelectionOf({ config }), () => checkRoles({ config })]) {
      try {
        check();
      } catch (error) {
        problems.push((error as Error).message.replace(/^invalid config file \S+: /, ''));
      }
    }
    process.stdout.write(`${describeConfig(config)}\n`);
    if (problems.length === 0) return 0;
    process.stderr.write(`${problems.join('\n')}\n`);
    return 1;
  },
};
