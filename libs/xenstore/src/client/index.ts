export * from './client.js';
export * from './transaction.js';
