import { parseArgs } from 'node:util';
import { configWarnings } from '../config/describe.js';
import { DEFAULT_LIMITS, RESULT_CEILING } from '../config/limits.js';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { createServer, type ServerOptions, toolSelectionOf } from '../server/server.js';
import { StdioLineTransport } from '../server/stdio-transport.js';
import {
  DEFAULT_TOOLSETS,
  selectTools,
  splitNames,
  TOOLSET_NAMES,
  type ToolSelection,
  ToolsetError,
} from '../server/toolsets.js';
import { VERSION } from '../server/version.js';
import { isLoopback } from '../ssh/addresses.js';
import { configureLog, log } from '../util/log.js';
import { type CliCommand, parseListen, positiveNumber, UsageError } from './args.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve MCP on stdio (the default when no command is given), or over HTTP with --http',
  usage: `mcp-ssh-session [serve] [options]

  --config FILE           config file (inventory, secrets by reference, policy, audit log); without it the
                          file is searched for as docs/configuration.md says; none is fine
  --max-output-bytes N    output kept per command (default ${DEFAULT_LIMITS.maxOutputBytes}; env MCP_SSH_MAX_OUTPUT_BYTES)
  --max-result-bytes N    size of one tool result, per block, JSON-encoded (default ${DEFAULT_LIMITS.maxResultBytes}, at most ${RESULT_CEILING}; env MCP_SSH_MAX_RESULT_BYTES)
  --max-wait S            seconds a call waits at most; a longer command goes on in the background (default ${DEFAULT_LIMITS.maxWaitMs / 1000}; env MCP_SSH_MAX_WAIT)
  --max-spill-bytes N     output of one command kept on disk beyond that (default ${DEFAULT_LIMITS.maxSpillBytes}; env MCP_SSH_MAX_SPILL_BYTES)
  --connect-timeout S     seconds for connect + authentication (default ${DEFAULT_LIMITS.connectTimeoutMs / 1000}; env MCP_SSH_CONNECT_TIMEOUT)
  --tools SETS            tool sets to offer, comma-separated (env MCP_SSH_TOOLS; config key tools):
                          ${TOOLSET_NAMES.join(', ')};
                          default (${DEFAULT_TOOLSETS.join(',')}); all; or single tool names
  --read-only             hide the tools that change files: write_file, upload_file, download_file
                          (env MCP_SSH_READ_ONLY=1; config security.read_only)
  --http [HOST:]PORT      serve Streamable HTTP on /mcp (and /healthz) instead of stdio; HOST defaults to
                          127.0.0.1; any other address needs the config's auth section (docs/deployment.md)
Flags and environment beat the config file's limits and tools; read-only set anywhere holds.`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'max-output-bytes': { type: 'string' },
        'max-spill-bytes': { type: 'string' },
        'max-result-bytes': { type: 'string' },
        'connect-timeout': { type: 'string' },
        tools: { type: 'string' },
        'read-only': { type: 'boolean' },
        'max-wait': { type: 'string' },
        http: { type: 'string' },
      },
    });
    const listen = values.http === undefined ? undefined : parseListen('--http', values.http);
    if (listen) configureLog({ format: 'json', level: 'info' });
    const config = await loadConfig({ explicitPath: values.config });
    if (config) {
      log.info(`config: ${config.file}`);
      for (const warning of configWarnings(config)) log.warn(`config: ${warning}`);
    }
    const env = process.env;
    const tools = toolSelection(values.tools, values['read-only'], env, config);
    log.info(
      `tools: ${tools.names.join(',')}${tools.readOnly ? ', read-only' : ''} (${[...tools.tools].join(', ')})`,
    );
    const connectTimeout = positiveNumber(
      '--connect-timeout',
      values['connect-timeout'] ?? env.MCP_SSH_CONNECT_TIMEOUT,
    );
    const maxWait = positiveNumber('--max-wait', values['max-wait'] ?? env.MCP_SSH_MAX_WAIT);
    const maxResult = positiveNumber(
      '--max-result-bytes',
      values['max-result-bytes'] ?? env.MCP_SSH_MAX_RESULT_BYTES,
    );
    if (maxResult !== undefined && maxResult > RESULT_CEILING) {
      log.warn(
        `--max-result-bytes ${maxResult} is over the ceiling; results hold ${RESULT_CEILING} bytes a block`,
      );
    }
    const options: ServerOptions = {
      ...(config && { config }),
      tools,
      limits: {
        maxOutputBytes: positiveNumber(
          '--max-output-bytes',
          values['max-output-bytes'] ?? env.MCP_SSH_MAX_OUTPUT_BYTES,
        ),
        maxSpillBytes: positiveNumber(
          '--max-spill-bytes',
          values['max-spill-bytes'] ?? env.MCP_SSH_MAX_SPILL_BYTES,
        ),
        maxResultBytes: maxResult,
        connectTimeoutMs: connectTimeout === undefined ? undefined : connectTimeout * 1000,
        maxWaitMs: maxWait === undefined ? undefined : maxWait * 1000,
      },
    };
    if (listen) return serveHttp(listen, options);
    const { server, manager, prompter, check } = createServer(options);
    let stopping = false;
    const shutdown = () => {
      if (stopping) return;
      stopping = true;
      // Commands stopped and what sessions started on their hosts ended, spill files deleted, audit log
      // flushed; a host or disk that does not answer does not hold the exit up for long.
      const exit = () => process.exit(0);
      setTimeout(exit, 8000).unref();
      void Promise.allSettled([manager.closeForExit(), prompter.close()]).then(exit);
    };
    process.stdin.on('close', shutdown);
    // The transport closes when stdin ends or either pipe fails: with no way to answer, nothing is left to
    // serve, so the server goes rather than live on deaf.
    server.server.onclose = shutdown;
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    await server.connect(new StdioLineTransport({ check }));
    log.info(`mcp-ssh-session ${VERSION} listening on stdio`);
    return new Promise<number>(() => {}); // serves until the client goes away
  },
};

/** Serves until SIGTERM/SIGINT, then drains (docs/deployment.md). */
async function serveHttp(listen: { host: string; port: number }, options: ServerOptions): Promise<number> {
  const authConfig = options.config?.auth;
  if (!authConfig && !isLoopback(listen.host)) {
    throw new UsageError(
      `refusing to serve on ${listen.host} without authentication: anyone who reaches that address would get your SSH sessions. Configure auth.tokens or auth.oauth in the config file (docs/deployment.md), or listen on 127.0.0.1`,
    );
  }
  // Loaded only here: express, jose and the SDK's HTTP pieces would slow every stdio server's start.
  const [{ startHttpServer }, { createAuthVerifier, protectedResourceMetadata }] = await Promise.all([
    import('../server/http/app.js'),
    import('../server/http/auth.js'),
  ]);
  const service = await startHttpServer({
    ...listen,
    server: options,
    ...(authConfig && {
      auth: async (resourceUrl: URL) => ({
        verifier: await createAuthVerifier(authConfig, resourceUrl),
        metadata: protectedResourceMetadata(authConfig, resourceUrl),
      }),
    }),
  });
  log.announce(`mcp-ssh-session ${VERSION} listening on ${service.url.href}`, {
    resource: service.resourceUrl.href,
    auth: authConfig
      ? [authConfig.tokens.length > 0 && 'tokens', authConfig.oauth && 'oauth'].filter(Boolean).join(',')
      : 'none',
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: draining`);
      void service.close().then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/**
 * The tools to offer: --tools, else MCP_SSH_TOOLS, else the config's `tools`, else the default sets.
 * Read-only holds when the flag, MCP_SSH_READ_ONLY or the config turns it on: nothing turns it off.
 */
function toolSelection(
  flag: string | undefined,
  readOnlyFlag: boolean | undefined,
  env: NodeJS.ProcessEnv,
  config: LoadedConfig | undefined,
): ToolSelection {
  const readOnly = readOnlyFlag === true || truthy('MCP_SSH_READ_ONLY', env.MCP_SSH_READ_ONLY);
  const source =
    flag !== undefined
      ? { name: '--tools', raw: flag }
      : env.MCP_SSH_TOOLS
        ? { name: 'MCP_SSH_TOOLS', raw: env.MCP_SSH_TOOLS }
        : undefined;
  // The config's own names are checked (and their errors worded) with the config.
  if (!source) return toolSelectionOf({ ...(config && { config }) }, readOnly);
  try {
    return selectTools({ names: splitNames(source.raw), readOnly: readOnly || config?.tools.readOnly });
  } catch (error) {
    if (error instanceof ToolsetError) throw new UsageError(`${source.name}: ${error.message}`);
    throw error;
  }
}

function truthy(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || /^(0|false|no|off)$/i.test(raw)) return false;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  throw new UsageError(`${name} must be 1 or 0 (true or false), got "${raw.slice(0, 40)}"`);
}
