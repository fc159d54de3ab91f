export * from './nats-server.js';
export * from './net.js';
export * from './tmp.js';
export * from './bench.js';
export * from './hex.js';
export * from './tls-certs.js';
