// Golden bytes are written by hand: u32 LE length, u32 LE CRC-32 (the CRC catalogue's CRC-32/ISO-HDLC,
// check value 0xCBF43926 for "123456789"; crc32("a") = 0xE8B7BE43), then the payload.
import { decodeSnapshot, encodeSnapshot, frameRecord, scanLog } from '../src/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const REC_DIGITS = hex(
  `
  09000000            # length 9
  2639f4cb            # crc32 0xcbf43926
  313233343536373839  # "123456789"
`.replace(/#.*$/gm, ''),
);
const REC_A = hex('01000000 43beb7e8 61'); // length 1, crc32 0xe8b7be43, "a"

describe('record framing', () => {
  it('frames a record as length, crc32, payload (little-endian)', () => {
    expect(frameRecord(Buffer.from('123456789'))).toEqual(REC_DIGITS);
    expect(frameRecord(Buffer.from('a'))).toEqual(REC_A);
  });

  it('scans a log of whole records', () => {
    const scan = scanLog(Buffer.concat([REC_A, REC_DIGITS]), 1024);
    expect(scan.records.map((r) => r.toString())).toEqual(['a', '123456789']);
    expect(scan.validBytes).toBe(9 + 17);
    expect(scan.torn).toBeUndefined();
  });

  it.each([
    ['short-header', hex('0100 00')],
    ['bad-length', hex('00000000 00000000')], // zeroed space: a zero length is never a record
    ['bad-length', hex('00040000 00000000')], // 1024 > maxRecordBytes 1023
    ['short-payload', hex('02000000 00000000 61')],
    ['crc-mismatch', hex('01000000 43beb7e8 62')], // "b" under "a"'s crc
  ])('stops at a %s tail and keeps the records before it', (reason, tail) => {
    const scan = scanLog(Buffer.concat([REC_A, tail]), 1023);
    expect(scan.records.map((r) => r.toString())).toEqual(['a']);
    expect(scan.validBytes).toBe(REC_A.length);
    expect(scan.torn).toBe(reason);
  });

  it('frames a snapshot as "SNAP" + one frame, empty allowed', () => {
    expect(encodeSnapshot(Buffer.from('a'))).toEqual(hex('534e4150 01000000 43beb7e8 61'));
    expect(encodeSnapshot(Buffer.alloc(0))).toEqual(hex('534e4150 00000000 00000000'));
    expect(decodeSnapshot(hex('534e4150 01000000 43beb7e8 61'))).toEqual({ payload: Buffer.from('a') });
    expect(decodeSnapshot(hex('534e4150 00000000 00000000'))).toEqual({ payload: Buffer.alloc(0) });
  });

  it.each([
    ['a short file', hex('534e4150 0100')],
    ['zeroed space', hex('00000000 00000000 00000000')],
    ['a frame longer than the file', hex('534e4150 02000000 43beb7e8 61')],
    ['trailing bytes', hex('534e4150 01000000 43beb7e8 61 00')],
    ['a crc mismatch', hex('534e4150 01000000 43beb7e8 62')],
  ])('rejects a snapshot file with %s', (_what, file) => {
    expect(decodeSnapshot(file)).toHaveProperty('invalid');
  });
});
