// Golden bytes written by hand from io/xs_wire.h: struct xsd_sockmsg is type u32 @0, req_id u32 @4,
// tx_id u32 @8, len u32 @12, all little-endian, then len payload bytes.
import { XS } from '@dominion/abi';
import {
  decodeXsHeader,
  decodeXsMessage,
  encodeXsMessage,
  parseErrorReply,
  parseTransactionStartReply,
  parseWatchEvent,
  xsErrorReply,
  xsOkReply,
  xsReply,
  xsRequest,
  xsWatchEvent,
  type XsMessage,
} from '../../src/wire/index.js';
import { hex } from '@dominion/testing';
import { XenstoreError } from '../../src/errors.js';

const READ_NAME = hex`
  02000000                              # type   @0  XS_READ (2)
  07000000                              # req_id @4  7
  00000000                              # tx_id  @8  0 (no transaction)
  15000000                              # len    @12 21
  2f6c6f63616c 2f646f6d61696e 2f30 2f6e616d65 00   # "/local" "/domain" "/0" "/name" NUL
`;

const ERROR_ENOENT = hex`
  10000000                              # type   @0  XS_ERROR (16)
  07000000                              # req_id @4  7, copied from the request
  00000000                              # tx_id  @8  0
  07000000                              # len    @12 7
  454e4f454e54 00                       # "ENOENT" NUL
`;

const WATCH_EVENT_SHUTDOWN = hex`
  0f000000                              # type   @0  XS_WATCH_EVENT (15)
  00000000                              # req_id @4  always 0 for events
  00000000                              # tx_id  @8  always 0 for events
  25000000                              # len    @12 37 = 32 + 1 + 3 + 1
  2f6c6f63616c 2f646f6d61696e 2f33      # "/local" "/domain" "/3"
  2f636f6e74726f6c 2f73687574646f776e   # "/control" "/shutdown"
  00                                    # NUL ends the path
  63746c 00                             # "ctl" NUL: the token
`;

const TX_START_REPLY = hex`
  06000000                              # type   @0  XS_TRANSACTION_START (6)
  03000000                              # req_id @4  3
  00000000                              # tx_id  @8  0: START itself is outside any transaction
  02000000                              # len    @12 2
  37 00                                 # "7" NUL: the new transaction id in decimal
`;

const WRITE_IN_TX = hex`
  0b000000                              # type   @0  XS_WRITE (11)
  04000000                              # req_id @4  4
  07000000                              # tx_id  @8  7
  1d000000                              # len    @12 29 = 21 + 8
  2f6c6f63616c 2f646f6d61696e 2f30 2f6e616d65 00   # "/local/domain/0/name" NUL
  446f6d61696e2d30                      # "Domain-0", no terminator
`;

const OK_REPLY = hex`
  0c000000                              # type   @0  XS_MKDIR (12)
  09000000                              # req_id @4  9
  00000000                              # tx_id  @8  0
  03000000                              # len    @12 3
  4f4b 00                               # "OK" NUL
`;

const LITTLE_ENDIAN = hex`
  02000000                              # type   @0  XS_READ
  04030201                              # req_id @4  0x01020304: least significant byte first
  0d0c0b0a                              # tx_id  @8  0x0a0b0c0d
  02000000                              # len    @12 2
  2f 00                                 # "/" NUL
`;

const msg = (type: number, reqId: number, txId: number, payload: string): XsMessage => ({
  type,
  reqId,
  txId,
  payload: Buffer.from(payload, 'latin1'),
});

describe('xsd_sockmsg golden bytes', () => {
  const cases: [string, Buffer, XsMessage][] = [
    ['XS_READ of /local/domain/0/name', READ_NAME, msg(XS.XS_READ, 7, 0, '/local/domain/0/name\0')],
    ['XS_ERROR ENOENT reply', ERROR_ENOENT, msg(XS.XS_ERROR, 7, 0, 'ENOENT\0')],
    ['XS_WATCH_EVENT', WATCH_EVENT_SHUTDOWN, msg(XS.XS_WATCH_EVENT, 0, 0, '/local/domain/3/control/shutdown\0ctl\0')],
    ['XS_TRANSACTION_START reply', TX_START_REPLY, msg(XS.XS_TRANSACTION_START, 3, 0, '7\0')],
    ['XS_WRITE inside transaction 7', WRITE_IN_TX, msg(XS.XS_WRITE, 4, 7, '/local/domain/0/name\0Domain-0')],
    ['OK reply', OK_REPLY, msg(XS.XS_MKDIR, 9, 0, 'OK\0')],
    ['little-endian header fields', LITTLE_ENDIAN, msg(XS.XS_READ, 0x01020304, 0x0a0b0c0d, '/\0')],
  ];

  it.each(cases)('encodes %s', (_name, bytes, m) => {
    expect(encodeXsMessage(m).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.each(cases)('decodes %s', (_name, bytes, m) => {
    expect(decodeXsMessage(bytes)).toEqual(m);
    expect(decodeXsHeader(bytes)).toEqual({ type: m.type, reqId: m.reqId, txId: m.txId, len: m.payload.length });
  });

  it('builds the same bytes with the request and reply helpers', () => {
    const read = { ...xsRequest.read('/local/domain/0/name'), reqId: 7, txId: 0 };
    expect(encodeXsMessage(read)).toEqual(READ_NAME);
    expect(encodeXsMessage(xsErrorReply(read, 'ENOENT'))).toEqual(ERROR_ENOENT);
    expect(encodeXsMessage(xsWatchEvent('/local/domain/3/control/shutdown', 'ctl'))).toEqual(WATCH_EVENT_SHUTDOWN);
    const start = { ...xsRequest.transactionStart(), reqId: 3, txId: 0 };
    expect(encodeXsMessage(xsReply(start, '7\0'))).toEqual(TX_START_REPLY);
    expect(encodeXsMessage({ ...xsRequest.write('/local/domain/0/name', 'Domain-0'), reqId: 4, txId: 7 })).toEqual(
      WRITE_IN_TX,
    );
    expect(encodeXsMessage(xsOkReply({ ...xsRequest.mkdir('/x'), reqId: 9, txId: 0 }))).toEqual(OK_REPLY);
  });

  it('reads the golden replies', () => {
    expect(parseErrorReply(decodeXsMessage(ERROR_ENOENT))).toBe('ENOENT');
    expect(parseErrorReply(decodeXsMessage(OK_REPLY))).toBeUndefined();
    expect(parseWatchEvent(decodeXsMessage(WATCH_EVENT_SHUTDOWN))).toEqual({
      path: '/local/domain/3/control/shutdown',
      token: 'ctl',
    });
    expect(parseTransactionStartReply(decodeXsMessage(TX_START_REPLY))).toBe(7);
  });

  it('decodes a header at an offset', () => {
    const two = Buffer.concat([OK_REPLY, READ_NAME]);
    expect(decodeXsHeader(two, OK_REPLY.length)).toEqual({ type: XS.XS_READ, reqId: 7, txId: 0, len: 21 });
  });
});

describe('xsd_sockmsg refusals', () => {
  it('encodes a 4096-byte payload and refuses 4097 with E2BIG', () => {
    const ok = encodeXsMessage({ type: XS.XS_WRITE, reqId: 1, txId: 0, payload: Buffer.alloc(4096, 0x61) });
    expect(ok.length).toBe(16 + 4096);
    expect(ok.subarray(12, 16).toString('hex')).toBe('00100000'); // len @12 = 0x1000
    const big = { type: XS.XS_WRITE, reqId: 1, txId: 0, payload: Buffer.alloc(4097) };
    expect(() => encodeXsMessage(big)).toThrow(XenstoreError);
    expect(() => encodeXsMessage(big)).toThrow(expect.objectContaining({ kind: 'E2BIG' }));
    expect(() => encodeXsMessage(big)).toThrow(/XS_WRITE req_id 1: payload of 4097 bytes/);
  });

  it('refuses header fields that are not u32 with EINVAL', () => {
    expect(
      encodeXsMessage(msg(XS.XS_READ, 0xffffffff, 0, '/\0'))
        .subarray(4, 8)
        .toString('hex'),
    ).toBe('ffffffff');
    for (const bad of [-1, 0x100000000, 1.5, NaN]) {
      expect(() => encodeXsMessage(msg(XS.XS_READ, bad, 0, '/\0'))).toThrow(
        expect.objectContaining({ kind: 'EINVAL', message: expect.stringContaining('req_id') }),
      );
    }
    expect(() => encodeXsMessage(msg(XS.XS_READ, 0, -2, '/\0'))).toThrow(/tx_id -2/);
    expect(() => encodeXsMessage(msg(-3, 0, 0, '/\0'))).toThrow(/type -3/);
  });

  it('refuses a short header with EPROTO', () => {
    expect(decodeXsHeader(READ_NAME.subarray(0, 16)).len).toBe(21);
    expect(() => decodeXsHeader(READ_NAME.subarray(0, 15))).toThrow(expect.objectContaining({ kind: 'EPROTO' }));
    expect(() => decodeXsHeader(READ_NAME, READ_NAME.length - 15)).toThrow(/needs 16 bytes at offset 22/);
  });

  it('refuses a whole message whose length disagrees with its header (EPROTO) or is too big (E2BIG)', () => {
    expect(decodeXsMessage(OK_REPLY).payload.toString()).toBe('OK\0');
    expect(() => decodeXsMessage(OK_REPLY.subarray(0, OK_REPLY.length - 1))).toThrow(
      expect.objectContaining({ kind: 'EPROTO', message: expect.stringContaining('header len 3 but 2 payload bytes') }),
    );
    expect(() => decodeXsMessage(Buffer.concat([OK_REPLY, Buffer.from([0])]))).toThrow(/header len 3 but 4/);
    const huge = hex`02000000 00000000 00000000 01100000`; // len @12 = 4097
    expect(() => decodeXsMessage(huge)).toThrow(expect.objectContaining({ kind: 'E2BIG' }));
  });

  it('refuses a watch event whose path or token would break the framing', () => {
    expect(xsWatchEvent('/a', 't').payload.toString('latin1')).toBe('/a\0t\0');
    expect(() => xsWatchEvent('/a\0b', 't')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
    expect(() => xsWatchEvent('/a', 't\0')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });

  it('decodes a plain Uint8Array (a NATS message body) like a Buffer', () => {
    const u8 = new Uint8Array(READ_NAME.length + 4);
    u8.set(READ_NAME, 4);
    const view = u8.subarray(4);
    expect(decodeXsMessage(view)).toEqual(decodeXsMessage(READ_NAME));
    expect(decodeXsHeader(u8, 4).len).toBe(21);
  });

  it('does not share memory with the decoded buffer', () => {
    const copy = Buffer.from(OK_REPLY);
    const m = decodeXsMessage(copy);
    copy.fill(0);
    expect(m.payload.toString('latin1')).toBe('OK\0');
  });
});
