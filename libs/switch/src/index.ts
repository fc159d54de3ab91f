export * from './errors.js';
export * from './addr.js';
export * from './frame.js';
export * from './counters.js';
export * from './port.js';
export * from './mac-table.js';
export * from './rate-limiter.js';
export * from './switch.js';
