export * from './xen.js';
export * from './xs_wire.js';
export * from './event_channel.js';
export * from './xenbus.js';
export * from './grant_table.js';
export * from './errno.js';
