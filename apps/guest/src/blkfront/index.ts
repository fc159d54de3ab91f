export * from './errors.js';
export * from './block-device.js';
export * from './frames.js';
export * from './device.js';
export * from './blkfront.js';
export * from './shell.js';
export * from './format.js';
