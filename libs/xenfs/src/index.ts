export * from './zfs-p9-filesystem.js';
