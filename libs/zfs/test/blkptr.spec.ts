// The block pointer layout, against bytes written out by hand from the format comment in blkptr.ts.
import { decodeBlkptr, encodeBlkptr, HOLE, isHole, type BlockPointer } from '../src/index.js';

const checksum = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const bp: BlockPointer = {
  vdev: 1,
  offset: 0x123456000,
  asize: 0x4000,
  lsize: 0x4000,
  psize: 0x4000,
  checksumAlgo: 'sha256',
  compression: 'off',
  type: 'indirect',
  level: 2,
  birth: 0x1234,
  fill: 300,
  checksum,
};

const golden = Buffer.from(
  [
    '01000000', // 0   DVA[0] vdev 1
    '00400000', // 4   asize 0x4000
    '0060452301000000', // 8   offset 0x1_2345_6000
    '00'.repeat(32), // 16  DVA[1], DVA[2] unused
    '00400000', // 48  lsize
    '00400000', // 52  psize
    '02', // 56  checksum: sha256 = 2
    '00', // 57  compression off
    '02', // 58  type: indirect = 2
    '02', // 59  level 2
    '00000000', // 60  reserved
    '3412000000000000', // 64  birth 0x1234
    '2c01000000000000', // 72  fill 300
    checksum.toString('hex'), // 80  checksum
    '00'.repeat(16), // 112 reserved
  ].join(''),
  'hex',
);

describe('block pointers', () => {
  it('encode to the documented 128 bytes and decode back', () => {
    expect(golden.length).toBe(128);
    expect(encodeBlkptr(bp).toString('hex')).toBe(golden.toString('hex'));
    expect(decodeBlkptr(golden, 0, 'test')).toEqual(bp);
  });

  it('make a hole all zeros, and read all zeros as a hole', () => {
    expect(encodeBlkptr(HOLE).equals(Buffer.alloc(128))).toBe(true);
    expect(isHole(decodeBlkptr(Buffer.alloc(128), 0, 'test'))).toBe(true);
    expect(isHole(bp)).toBe(false);
  });

  it('refuse an unknown checksum algorithm as corruption', () => {
    const bad = Buffer.from(golden);
    bad[56] = 9;
    expect(() => decodeBlkptr(bad, 0, 'test')).toThrow(expect.objectContaining({ kind: 'EIO' }));
  });

  it('carry blake3 (id 3) and lz4 with lsize above psize', () => {
    const bytes = Buffer.from(golden);
    bytes[56] = 3; // checksum: blake3 = 3
    bytes[57] = 1; // compression: lz4 = 1
    bytes.writeUInt32LE(0x1000, 52); // psize 0x1000 of lsize 0x4000
    expect(decodeBlkptr(bytes, 0, 'test')).toEqual({
      ...bp,
      checksumAlgo: 'blake3',
      compression: 'lz4',
      psize: 0x1000,
    });
    expect(encodeBlkptr({ ...bp, checksumAlgo: 'blake3', compression: 'lz4', psize: 0x1000 }).equals(bytes)).toBe(true);
    bytes[57] = 7;
    expect(() => decodeBlkptr(bytes, 0, 'test')).toThrow(
      expect.objectContaining({ kind: 'EIO', message: expect.stringMatching(/compression 7/) }),
    );
  });
});
