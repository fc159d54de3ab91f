/** Injection tokens of the runtime module. */
export const DOMAIN_CONFIG = Symbol('DOMAIN_CONFIG');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const LOGGER = Symbol('LOGGER');
export const RUNTIME_OPTIONS = Symbol('RUNTIME_OPTIONS');
