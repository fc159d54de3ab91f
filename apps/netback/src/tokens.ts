export const NETBACK_CONFIG = Symbol('NETBACK_CONFIG');
