// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit words.
// Summing a header that already carries its checksum yields 0 when it is intact.

/** The one's complement sum of `bytes` (an odd trailing byte padded with zero), folded to 16 bits, added to `initial`. */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const end = bytes.length & ~1;
  for (let i = 0; i < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) sum += bytes[end] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesSum(bytes, initial) & 0xffff;
}

/** The sum of the IPv4 pseudo-header UDP and TCP checksums cover (RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}
