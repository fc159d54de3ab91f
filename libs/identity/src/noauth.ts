// The stand-in identity of a bus without auth (DOMINION_NATS_AUTH=off, for debugging). Such a hypervisor
// mints no keys and answers getdomainkey with ENOSYS, so a ring stream has nothing to prove: a frontend
// without credentials signs its proof with this published seed, and a backend verifies against this key,
// i.e. accepts the stream on its XenStore and liveness checks alone. Never a secret; in operator mode it is
// never a domain's key, so it opens nothing there.
export const NOAUTH_RING_KEY = 'UD5PRGQD6MJM2R6I67IK4CVIID34AJZBOKUUHJCNOPBJWMATE4WZZVMZ';
/** Its seed, what a frontend without credentials signs with. */
export const NOAUTH_RING_SEED = 'SUAL3F236FYYAFYR4C2PBLOG4DNOKUNYEV37TGSYIE2NI5F3EGVITWZUJI';
