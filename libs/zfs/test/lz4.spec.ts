// The LZ4 block codec: hand-made blocks decoded by the rules of the format description, round trips, and
// interop with the stock lz4 tool in both directions (its frames parsed here by the frame format's rules).
import { execFileSync } from 'node:child_process';
import { lz4Bound, lz4Compress, lz4Decompress } from '../src/index.js';
import { pattern } from './helpers.js';

const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

describe('lz4 block decoding of hand-made blocks', () => {
  it('decodes a literals-only block: token 0x50 is 5 literals and no match', () => {
    expect(lz4Decompress(Buffer.from([0x50, ...ascii('hello')]), 5, 't').toString()).toBe('hello');
    // An empty input is one token with no literals.
    expect(lz4Decompress(Buffer.from([0x00]), 0, 't').length).toBe(0);
  });

  it('copies an overlapping match: 3 literals "abc", offset 3, length 9 (nibble 5), then 5 literals', () => {
    const block = Buffer.from([0x35, ...ascii('abc'), 0x03, 0x00, 0x50, ...ascii('xyzzy')]);
    expect(lz4Decompress(block, 17, 't').toString()).toBe('abcabcabcabcxyzzy');
  });

  it('reads length extension bytes: 15 + 255 + 3 literals, and a match of 4 + 15 + 1', () => {
    const literals = pattern(1, 273);
    const block = Buffer.from([0xff, 255, 3, ...literals, 0x01, 0x00, 1, 0x00]);
    const out = lz4Decompress(block, 273 + 20, 't');
    expect(out.subarray(0, 273).equals(literals)).toBe(true);
    expect(out.subarray(273).equals(Buffer.alloc(20, literals[272]))).toBe(true);
  });

  it('refuses malformed blocks with EIO naming the block and the byte', () => {
    const bad = (block: number[], size: number): unknown => {
      try {
        lz4Decompress(Buffer.from(block), size, 'tank/v blkid 7');
        return undefined;
      } catch (e) {
        return e;
      }
    };
    const eio = (re: RegExp): object => ({ kind: 'EIO', message: expect.stringMatching(re) });
    expect(bad([0x14, 0x61, 0x00, 0x00, 0x00], 9)).toMatchObject(eio(/tank\/v blkid 7: lz4 block has offset 0/));
    expect(bad([0x14, 0x61, 0x02, 0x00, 0x00], 9)).toMatchObject(eio(/offset 2 with 1 bytes decoded/));
    expect(bad([0x50, 0x61, 0x62], 5)).toMatchObject(eio(/literals past its end/));
    expect(bad([0x50, ...ascii('hello')], 4)).toMatchObject(eio(/decodes past 4 bytes/));
    expect(bad([0x50, ...ascii('hello')], 6)).toMatchObject(eio(/decodes to 5 bytes, expected 6/));
    expect(bad([0xf0, 255], 300)).toMatchObject(eio(/ends inside a length/));
    // The same bytes with a valid offset decode.
    expect(lz4Decompress(Buffer.from([0x14, 0x61, 0x01, 0x00, 0x00]), 9, 't').toString()).toBe('aaaaaaaaa');
  });
});

describe('lz4 round trips', () => {
  const text = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(400), 'latin1');
  it.each([
    ['empty', Buffer.alloc(0)],
    ['12 bytes (below the match limit)', Buffer.from('aaaaaaaaaaaa')],
    ['13 zero bytes', Buffer.alloc(13)],
    ['64 KiB of zeros', Buffer.alloc(65536)],
    ['repeated text', text],
    ['random bytes', pattern(9, 70000)],
    ['random with runs', Buffer.concat([pattern(3, 5000), Buffer.alloc(3000, 7), pattern(4, 100_000), text])],
  ])('%s', (_name, data) => {
    const block = lz4Compress(data);
    expect(block.length).toBeLessThanOrEqual(lz4Bound(data.length));
    expect(lz4Decompress(block, data.length, 't').equals(data)).toBe(true);
    // The encoder's obligations: the last 5 bytes are literals (the last sequence has at least 5 literals
    // unless the input is shorter).
    if (data.length >= 5) expect(block.subarray(-5).equals(data.subarray(-5))).toBe(true);
  });

  it('compresses what repeats', () => {
    expect(lz4Compress(text).length).toBeLessThan(text.length / 20);
    expect(lz4Compress(Buffer.alloc(16384)).length).toBeLessThan(100);
  });
});

describe('lz4 interop with the stock lz4 tool', () => {
  const data = Buffer.concat([
    Buffer.from('dominion zfs lz4 interop '.repeat(300)),
    pattern(5, 2000),
    Buffer.alloc(4000),
  ]);

  it('decodes the block of a frame made by `lz4`', () => {
    const frame = execFileSync('lz4', ['-c', '-z', '--no-frame-crc'], { input: data });
    // Frame format: magic 04 22 4d 18, FLG, BD, [8-byte content size if FLG bit 3], HC; then blocks of a
    // u32 size (top bit: stored uncompressed) and data, [4-byte checksum if FLG bit 4]; a zero size ends it.
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    const flg = frame[4];
    let at = 7 + (flg & 0x08 ? 8 : 0);
    const out: Buffer[] = [];
    for (;;) {
      const word = frame.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      const body = frame.subarray(at, at + size);
      expect(word >>> 31).toBe(0); // compressible input: the tool stored the block compressed
      out.push(
        lz4Decompress(body, Math.min(data.length - out.reduce((n, b) => n + b.length, 0), 4 << 20), 'lz4 frame'),
      );
      at += size + (flg & 0x10 ? 4 : 0);
    }
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('produces blocks `lz4 -d` decodes (wrapped in the legacy frame: magic 02 21 4c 18, u32 size, block)', () => {
    const block = lz4Compress(data);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0x184c2102, 0);
    header.writeUInt32LE(block.length, 4);
    const decoded = execFileSync('lz4', ['-d', '-c'], { input: Buffer.concat([header, block]) });
    expect(decoded.equals(data)).toBe(true);
  });
});

describe('lz4 with a size limit', () => {
  it('gives up on what would not fit, and returns the same block as without a limit otherwise', () => {
    const noise = pattern(8, 16384);
    expect(lz4Compress(noise, 14000)).toBeUndefined();
    const text = Buffer.from('abcdefgh'.repeat(2048));
    const free = lz4Compress(text);
    expect(lz4Compress(text, free.length)?.equals(free)).toBe(true);
    expect(lz4Compress(text, free.length - 1)).toBeUndefined();
  });
});
