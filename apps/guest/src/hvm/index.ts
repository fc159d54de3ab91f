export * from './accel-probe.js';
export * from './device-model.js';
export * from './hvm-devices.js';
export * from './hvm-domain.js';
export * from './hvm-options.js';
export * from './qemu-args.js';
export * from './qmp.js';
