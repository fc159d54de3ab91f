export const ZFS_CONFIG = Symbol('ZFS_CONFIG');
