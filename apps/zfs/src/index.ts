export * from './config.js';
export * from './pools.js';
export * from './admin-api.js';
export * from './block-service.js';
export * from './zfs.service.js';
export * from './zfs.module.js';
