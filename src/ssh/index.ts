// The ssh layer: resolving targets through ~/.ssh/config, host keys, authentication and connecting.
// It knows nothing about MCP, sessions or shells.

export {
  type AlgorithmCategory,
  type AlgorithmSetting,
  type HostAlgorithms,
  supportedAlgorithms,
} from './algorithms.js';
export { listSshAliases } from './config-file.js';
export { type ConnectOptions, connect } from './connect.js';
export { SshError, type SshErrorCode } from './errors.js';
export {
  fingerprint,
  type HostKeyOptions,
  type HostKeyPolicy,
  normalizeFingerprint,
} from './known-hosts.js';
export { defaultSshPaths, type SshPaths } from './paths.js';
export {
  type PtySize,
  type ShellChannel,
  type ShellServer,
  type ShellServerOptions,
  startShellServer,
} from './server.js';
export {
  type Hop,
  type HostEntry,
  type ResolvedTarget,
  resolveTarget,
  type TargetRequest,
} from './ssh-config.js';
