export * from './errors.js';
export * from './event-channels.js';
