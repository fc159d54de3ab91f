import { hex } from '@dominion/testing';
import { P9Error, P9Framer } from '../src/index.js';

const tclunk = hex`0b 00 00 00  78  05 00  01 00 00 00   # Tclunk tag 5 fid 1`;
const tflush = hex`09 00 00 00  6c  06 00  05 00         # Tflush tag 6 oldtag 5`;

describe('P9Framer', () => {
  it('reassembles messages split byte by byte and several in one chunk', () => {
    const f = new P9Framer(8192);
    const stream = Buffer.concat([tclunk, tflush, tclunk]);
    const out: Buffer[] = [];
    for (let i = 0; i < 13; i++) out.push(...f.push(stream.subarray(i, i + 1)));
    expect(out).toEqual([tclunk]);
    expect(f.buffered).toBe(2);
    out.push(...f.push(stream.subarray(13)));
    expect(out).toEqual([tclunk, tflush, tclunk]);
    expect(f.buffered).toBe(0);
  });

  it('accepts a message of exactly msize and ends the stream at one byte more', () => {
    const ok = Buffer.alloc(64);
    ok.writeUInt32LE(64, 0);
    expect(new P9Framer(64).push(ok)).toHaveLength(1);
    const big = Buffer.alloc(65);
    big.writeUInt32LE(65, 0);
    const f = new P9Framer(64);
    expect(() => f.push(big.subarray(0, 4))).toThrow(/declares size 65, outside 7..64/);
    // The framing is lost for good: even a good message is refused afterwards.
    expect(() => f.push(tclunk)).toThrow(P9Error);
  });

  it('ends the stream on a size below the header', () => {
    const f = new P9Framer(8192);
    let err: unknown;
    try {
      f.push(hex`06 00 00 00 78 05`);
    } catch (e) {
      err = e;
    }
    expect((err as P9Error).errno).toBe('EPROTO');
  });
});
