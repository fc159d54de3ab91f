export * from './errors.js';
export * from './value.js';
export * from './cfg.js';
export { parseXlCfg, COMMAND_LINE, type ParseXlCfgOptions } from './parser.js';
export { PYTHON_HINT } from './lexer.js';
export * from './domain.js';
export * from './hvm.js';
export * from './disk.js';
// Device numbers belong to the vbd interface; re-exported so xlcfg's API is unchanged.
export { devidToVdev, diskLetters, vdevToDevice, type VdevKind, type Vdev as VirtualDevice } from '@dominion/blkif';
export * from './vif.js';
export * from './rate.js';
export * from './vlan.js';
export * from './p9.js';
export * from './vtpm.js';
export { parseUuid } from './uuid.js';
export { XL_CFG_KEYS } from './xl-keys.js';
