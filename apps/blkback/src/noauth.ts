// The stand-in identity of a bus without auth, the pair apps/guest's frontends and apps/netback use (it
// belongs in libs/identity). Such a hypervisor mints no keys (getdomainkey: ENOSYS), so a frontend without
// credentials signs its ring proof with this published seed and blkback verifies it against this key:
// the stream is then accepted on authorize's XenStore and liveness checks alone. Never a secret.
export const NOAUTH_RING_KEY = 'UD5PRGQD6MJM2R6I67IK4CVIID34AJZBOKUUHJCNOPBJWMATE4WZZVMZ';
