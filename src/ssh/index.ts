// The ssh layer: resolving targets through ~/.ssh/config, host keys, authentication and connecting.
// It knows nothing about MCP, sessions or shells.
export { type ConnectOptions, connect } from './connect.js';
export { SshError, type SshErrorCode } from './errors.js';
export { fingerprint, type HostKeyPolicy } from './known-hosts.js';
export { defaultSshPaths, type SshPaths } from './paths.js';
export { type Hop, type ResolvedTarget, resolveTarget, type TargetRequest } from './ssh-config.js';
