// Checksums against values derived by hand, never by the code under test.
import { readFileSync } from 'node:fs';
import { blake3, checksumOf, fletcher4, parseChecksumProperty, sha256, ZfsError } from '../src/index.js';

/** Reads the four little-endian u64 accumulators a, b, c, d of a fletcher4 result. */
function words(sum: Buffer): bigint[] {
  return [0, 8, 16, 24].map((at) => sum.readBigUInt64LE(at));
}

describe('fletcher4', () => {
  it('runs a += w, b += a, c += b, d += c over little-endian 32-bit words', () => {
    // Words 1, 2:          a = 1, 3   b = 1, 4   c = 1, 5   d = 1, 6
    expect(words(fletcher4(Buffer.from('0100000002000000', 'hex')))).toEqual([3n, 4n, 5n, 6n]);
    // Words 1, 2, 3, 4:    a = 10 (1+2+3+4), b = 1+3+6+10 = 20, c = 1+4+10+20 = 35, d = 1+5+15+35 = 56
    expect(words(fletcher4(Buffer.from('01000000020000000300000004000000', 'hex')))).toEqual([10n, 20n, 35n, 56n]);
    // The bytes 00 00 00 01 are the word 0x01000000 (little-endian), not 1.
    expect(words(fletcher4(Buffer.from('00000001', 'hex')))).toEqual([0x1000000n, 0x1000000n, 0x1000000n, 0x1000000n]);
    expect(words(fletcher4(Buffer.alloc(0)))).toEqual([0n, 0n, 0n, 0n]);
  });

  it('wraps every accumulator modulo 2^64', () => {
    // n words of M = 0xffffffff: a = nM, b = M n(n+1)/2, c = M n(n+1)(n+2)/6, d = M n(n+1)(n+2)(n+3)/24,
    // each mod 2^64 (sums of 1, 2, ... and of triangular and tetrahedral numbers). At n = 1024, c and d
    // exceed 2^64.
    const n = 1024n;
    const M = 0xffffffffn;
    const mod = (x: bigint): bigint => x % (1n << 64n);
    const expected = [
      mod(n * M),
      mod((M * n * (n + 1n)) / 2n),
      mod((M * n * (n + 1n) * (n + 2n)) / 6n),
      mod((M * n * (n + 1n) * (n + 2n) * (n + 3n)) / 24n),
    ];
    expect(expected[3]).toBeLessThan((M * n * (n + 1n) * (n + 2n) * (n + 3n)) / 24n); // the case does wrap
    expect(words(fletcher4(Buffer.alloc(4096, 0xff)))).toEqual(expected);
  });

  it('reads words from an unaligned view the same as from an aligned copy', () => {
    const backing = Buffer.alloc(4 + 1 + 16);
    Buffer.from('01000000020000000300000004000000', 'hex').copy(backing, 5);
    expect(words(fletcher4(backing.subarray(5)))).toEqual([10n, 20n, 35n, 56n]);
  });

  it('refuses input that is not whole 32-bit words', () => {
    expect(() => fletcher4(Buffer.alloc(6))).toThrow(ZfsError);
    expect(() => fletcher4(Buffer.alloc(8))).not.toThrow();
  });
});

describe('sha256', () => {
  it('matches the FIPS 180-2 examples', () => {
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256(Buffer.alloc(0)).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(checksumOf('sha256', Buffer.from('abc')).toString('hex')).toMatch(/^ba7816bf/);
  });
});

describe('checksum= property', () => {
  it('takes on, fletcher4, sha256 and blake3; anything else is invalid', () => {
    expect(parseChecksumProperty('on')).toBe('fletcher4');
    expect(parseChecksumProperty('fletcher4')).toBe('fletcher4');
    expect(parseChecksumProperty('sha256')).toBe('sha256');
    expect(parseChecksumProperty('blake3')).toBe('blake3');
    expect(() => parseChecksumProperty('md5')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });
});

describe('blake3', () => {
  // The official vectors (BLAKE3-team/BLAKE3 test_vectors/test_vectors.json, hash mode), copied as published.
  const vectors = JSON.parse(readFileSync(new URL('./fixtures/blake3-test-vectors.json', import.meta.url), 'utf8')) as {
    cases: { input_len: number; hash: string }[];
  };
  const input = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

  it.each(vectors.cases.map((c) => [c.input_len, c.hash] as const))(
    'hashes %i bytes of 0..250 repeating as the official vector says (32 bytes and extended output)',
    (length, hash) => {
      expect(blake3(input(length)).toString('hex')).toBe(hash.slice(0, 64));
      expect(blake3(input(length), hash.length / 2).toString('hex')).toBe(hash);
    },
  );

  it('is what checksum=blake3 stores', () => {
    expect(checksumOf('blake3', Buffer.alloc(0)).toString('hex')).toBe(
      'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
    );
  });
});
