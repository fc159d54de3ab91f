export * from './errors.js';
export * from './wire/index.js';
export * from './store/index.js';
export * from './xenstored/index.js';
export * from './client/index.js';
