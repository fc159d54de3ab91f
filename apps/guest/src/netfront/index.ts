export * from './netfront.js';
export * from './netfronts.js';
