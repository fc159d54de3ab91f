export * from './constants.js';
export * from './errors.js';
export * from './export.js';
export * from './wire.js';
export * from './options.js';
export * from './connection.js';
export * from './file-export.js';
