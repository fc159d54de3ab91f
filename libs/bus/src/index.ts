export * from './subjects.js';
export * from './errors.js';
export * from './rpc.js';
