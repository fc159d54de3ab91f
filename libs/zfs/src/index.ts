export * from './errors.js';
export * from './checksum/index.js';
export * from './compression/index.js';
export * from './constants.js';
export * from './blkptr.js';
export * from './label.js';
export * from './uberblock.js';
export * from './vdev.js';
export { type FoundBlock } from './verify.js';
export * from './allocator.js';
export * from './objset.js';
export { type DatasetType, type VolumeProps } from './mos.js';
export { type LogRecord } from './zil.js';
export * from './verify.js';
export * from './volume.js';
export * from './filesystem.js';
export {
  FILE_BLOCK_SIZE,
  MAX_XATTR_BYTES,
  ROOT_OBJECT,
  type DirEntry,
  type FsObjectType,
  type FsStat,
} from './fs-objects.js';
export { XATTR_CREATE, XATTR_REPLACE, type FsCreateAttrs, type FsSetAttr } from './fs-ops.js';
export { parseSize, SETTABLE_PROPERTIES, type PropertySource, type PropertyValue } from './props.js';
export * from './pool.js';
