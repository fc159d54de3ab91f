import { XS } from '@dominion/abi';
import { XsWireParser, type XsMessage } from '../../src/wire/index.js';
import { hex } from '@dominion/testing';
import { XenstoreError } from '../../src/errors.js';

// Three messages as one socket would carry them, written by hand (type @0, req_id @4, tx_id @8, len @12).
const STREAM = hex`
  06000000 01000000 00000000 01000000   # XS_TRANSACTION_START req_id 1, len 1
  00                                    # "" NUL
  0d000000 02000000 05000000 08000000   # XS_RM req_id 2 tx_id 5, len 8
  2f746f6f6c2f7800                      # "/tool/x" NUL
  07000000 03000000 05000000 00000000   # XS_TRANSACTION_END req_id 3 tx_id 5, len 0 (an empty payload)
`;
const EXPECTED: XsMessage[] = [
  { type: XS.XS_TRANSACTION_START, reqId: 1, txId: 0, payload: Buffer.from([0]) },
  { type: XS.XS_RM, reqId: 2, txId: 5, payload: Buffer.from('/tool/x\0', 'latin1') },
  { type: XS.XS_TRANSACTION_END, reqId: 3, txId: 5, payload: Buffer.alloc(0) },
];

function header(type: number, reqId: number, len: number): Buffer {
  // Built without the codec: a plain little-endian write of the four fields.
  const h = Buffer.alloc(16);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(reqId, 4);
  h.writeUInt32LE(0, 8);
  h.writeUInt32LE(len, 12);
  return h;
}

describe('XsWireParser', () => {
  it('returns several messages that arrive in one chunk, in order', () => {
    const p = new XsWireParser();
    expect(p.feed(STREAM)).toEqual(EXPECTED);
    expect(p.buffered).toBe(0);
  });

  it('reassembles a stream split at every byte boundary', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const p = new XsWireParser();
      const got = [...p.feed(STREAM.subarray(0, i)), ...p.feed(STREAM.subarray(i))];
      expect([i, got]).toEqual([i, EXPECTED]);
    }
  });

  it('reassembles a stream split at every pair of boundaries', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j++) {
        const p = new XsWireParser();
        const got = [...p.feed(STREAM.subarray(0, i)), ...p.feed(STREAM.subarray(i, j)), ...p.feed(STREAM.subarray(j))];
        if (got.length !== 3) throw new Error(`split at ${i},${j}: ${got.length} messages`);
        expect(got).toEqual(EXPECTED);
      }
    }
  });

  it('reassembles a stream fed one byte at a time, reporting what it holds', () => {
    const p = new XsWireParser();
    const got: XsMessage[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      got.push(...p.feed(STREAM.subarray(i, i + 1)));
      const done = [17, 17 + 24, 17 + 24 + 16].filter((end) => end <= i + 1).pop() ?? 0;
      expect([i, p.buffered]).toEqual([i, i + 1 - done]);
    }
    expect(got).toEqual(EXPECTED);
  });

  it('accepts len exactly XENSTORE_PAYLOAD_MAX', () => {
    const p = new XsWireParser();
    const payload = Buffer.alloc(4096, 0x62);
    expect(p.feed(header(XS.XS_WRITE, 1, 4096))).toEqual([]);
    expect(p.feed(payload.subarray(0, 4000))).toEqual([]);
    expect(p.buffered).toBe(16 + 4000);
    const [m] = p.feed(payload.subarray(4000));
    expect(m.payload.length).toBe(4096);
    expect(m.payload.equals(payload)).toBe(true);
  });

  it('stops with E2BIG at a len-4097 header, still yielding what came before it, then refuses all input with EINVAL', () => {
    const p = new XsWireParser();
    // The first message completes in the same chunk as the bad header: it is still returned (C xenstored
    // handles it before it reads the next header).
    expect(p.feed(Buffer.concat([STREAM.subarray(0, 17), header(XS.XS_WRITE, 42, 4097)]))).toEqual([EXPECTED[0]]);
    expect(p.failed).toBeInstanceOf(XenstoreError);
    expect(p.failed).toMatchObject({ kind: 'E2BIG', message: expect.stringContaining('XS_WRITE req_id 42') });
    expect(p.buffered).toBe(0);
    expect(() => p.feed(STREAM)).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => p.feed(Buffer.alloc(0))).toThrow(/stopped after an earlier error/);
  });

  it('refuses a huge len even when the header comes in pieces', () => {
    const p = new XsWireParser();
    const h = header(XS.XS_READ, 1, 0xffffffff);
    expect(p.feed(h.subarray(0, 13))).toEqual([]);
    expect(p.failed).toBeUndefined();
    expect(p.feed(h.subarray(13))).toEqual([]);
    expect(p.failed).toMatchObject({ kind: 'E2BIG' });
  });

  it('takes plain Uint8Array chunks', () => {
    const p = new XsWireParser();
    const u8 = new Uint8Array(STREAM);
    expect([...p.feed(u8.subarray(0, 20)), ...p.feed(u8.subarray(20))]).toEqual(EXPECTED);
  });

  it('copies payloads out of the caller chunk', () => {
    const chunk = Buffer.from(STREAM);
    const [, rm] = new XsWireParser().feed(chunk);
    chunk.fill(0xff);
    expect(rm.payload.toString('latin1')).toBe('/tool/x\0');
  });
});
