export const HYPERVISOR_CONFIG = Symbol('HYPERVISOR_CONFIG');
/** The DomainIdentities, or null when the bus runs without auth (no DOMINION_IDENTITY_DIR). */
export const DOMAIN_IDENTITIES = Symbol('DOMAIN_IDENTITIES');
