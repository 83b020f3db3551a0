// Entry point for the network-device simulators (see README.md in this folder).
export type {
  AuthMethod,
  ChunkingOptions,
  CommonDeviceOptions,
  ConfigInspection,
  DeviceProfile,
} from './cli-engine.js';
export { type DeviceSimulator, startDeviceSimulator } from './device-sim.js';
export { type EosOptions, eosProfile } from './eos.js';
export { type IosOptions, iosProfile } from './ios.js';
export { type JunosOptions, junosProfile } from './junos.js';
export { type NxosOptions, nxosProfile } from './nxos.js';
