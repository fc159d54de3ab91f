export const BLKBACK_CONFIG = Symbol('BLKBACK_CONFIG');
/** Optional override of getdomainkey (a bus without identities, in tests). */
export const BLKBACK_KEY_OF = Symbol('BLKBACK_KEY_OF');
