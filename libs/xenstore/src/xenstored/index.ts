export * from './nats-protocol.js';
export * from './session.js';
export * from './xenstored.js';
export * from './stream.js';
export * from './nats-transport.js';
