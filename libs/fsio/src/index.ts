export * from './errors.js';
export * from './fileio.js';
export * from './node-fileio.js';
export * from './crash-sim.js';
export * from './durable-ops.js';
export * from './record.js';
export * from './durable-log.js';
