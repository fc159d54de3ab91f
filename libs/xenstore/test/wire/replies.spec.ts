// Reply payloads written out by hand from docs/misc/xenstore.txt and C xenstored's behaviour (xen-facts §4).
import { XS } from '@dominion/abi';
import {
  isOkReply,
  parseDirectoryPartReply,
  parseDirectoryReply,
  parseErrorReply,
  parseGetPermsReply,
  parseIsDomainIntroducedReply,
  parseTransactionStartReply,
  parseWatchEvent,
  type XsMessage,
} from '../../src/wire/index.js';
import { XenstoreError } from '../../src/errors.js';

const m = (type: number, payload: string, reqId = 1): XsMessage => ({
  type,
  reqId,
  txId: 0,
  payload: Buffer.from(payload, 'latin1'),
});
const b = (s: string) => Buffer.from(s, 'latin1');

describe('error and OK replies', () => {
  it('reads the errno name of an XS_ERROR reply, and nothing from other replies', () => {
    expect(parseErrorReply(m(XS.XS_ERROR, 'EACCES\0'))).toBe('EACCES');
    // oxenstored's quota error is not in xsd_errors but still arrives as a name
    expect(parseErrorReply(m(XS.XS_ERROR, 'EQUOTA\0'))).toBe('EQUOTA');
    expect(parseErrorReply(m(XS.XS_ERROR, 'EAGAIN'))).toBe('EAGAIN');
    expect(parseErrorReply(m(XS.XS_READ, 'ENOENT\0'))).toBeUndefined();
  });

  it('tells OK apart from a value that happens to read OK', () => {
    expect(isOkReply(m(XS.XS_WRITE, 'OK\0'))).toBe(true);
    expect(isOkReply(m(XS.XS_READ, 'OK'))).toBe(false);
    expect(isOkReply(m(XS.XS_ERROR, 'OK\0'))).toBe(false);
  });
});

describe('watch events', () => {
  it('reads path and token', () => {
    expect(parseWatchEvent(m(XS.XS_WATCH_EVENT, '/a/b\0tok\0', 0))).toEqual({ path: '/a/b', token: 'tok' });
    expect(parseWatchEvent(m(XS.XS_WATCH_EVENT, '@releaseDomain\0\0', 0))).toEqual({
      path: '@releaseDomain',
      token: '',
    });
  });

  it('refuses other messages and events without a token with EPROTO', () => {
    expect(() => parseWatchEvent(m(XS.XS_WATCH, 'OK\0'))).toThrow(
      expect.objectContaining({ kind: 'EPROTO', message: 'XS_WATCH req_id 1 tx_id 0: not a watch event' }),
    );
    expect(() => parseWatchEvent(m(XS.XS_WATCH_EVENT, '/a\0', 0))).toThrow(/has 1 fields, needs path and token/);
  });
});

describe('directory replies', () => {
  it('reads leaf names; an empty payload is a node without children', () => {
    expect(parseDirectoryReply(b('0\x001\x002\0'))).toEqual(['0', '1', '2']);
    expect(parseDirectoryReply(b(''))).toEqual([]);
  });

  it('reads a DIRECTORY_PART list in parts, offsets counting bytes of the children list', () => {
    const first = parseDirectoryPartReply(b('42\0a\0bb\0'), 0);
    expect(first).toEqual({ generation: '42', children: ['a', 'bb'], done: false, nextOffset: 5 });
    const last = parseDirectoryPartReply(b('42\0c\0\0'), first.nextOffset);
    expect(last).toEqual({ generation: '42', children: ['c'], done: true, nextOffset: 7 });
  });

  it('reads the whole list in one part, and the empty list C xenstored sends for a leaf', () => {
    expect(parseDirectoryPartReply(b('7\0x\0y\0\0'))).toEqual({
      generation: '7',
      children: ['x', 'y'],
      done: true,
      nextOffset: 4,
    });
    expect(parseDirectoryPartReply(b('7\0\0'))).toEqual({ generation: '7', children: [], done: true, nextOffset: 0 });
    expect(parseDirectoryPartReply(b('7\0\0'), 12)).toMatchObject({ children: [], done: true, nextOffset: 12 });
  });

  it('refuses a part without generation count or with an unterminated child (EPROTO)', () => {
    expect(() => parseDirectoryPartReply(b('\0a\0\0'))).toThrow(expect.objectContaining({ kind: 'EPROTO' }));
    expect(() => parseDirectoryPartReply(b('7'))).toThrow(/no generation count/);
    expect(() => parseDirectoryPartReply(b('7\0'))).toThrow(/not NUL-terminated/);
    expect(() => parseDirectoryPartReply(b('7\0a\0b'), 3)).toThrow(/offset 3: children list is not NUL-terminated/);
  });
});

describe('transaction, domain and permission replies', () => {
  it('reads a transaction id', () => {
    expect(parseTransactionStartReply(m(XS.XS_TRANSACTION_START, '7\0'))).toBe(7);
    expect(parseTransactionStartReply(m(XS.XS_TRANSACTION_START, '4294967295\0'))).toBe(0xffffffff);
  });

  it('refuses a transaction id that is not a non-zero u32 in decimal (EPROTO)', () => {
    for (const bad of ['0\0', '\0', '4294967296\0', '-1\0', '0x10\0', '7\x008\0', ' 7\0']) {
      expect(() => parseTransactionStartReply(m(XS.XS_TRANSACTION_START, bad))).toThrow(
        expect.objectContaining({ kind: 'EPROTO' }),
      );
    }
  });

  it('reads IS_DOMAIN_INTRODUCED', () => {
    expect(parseIsDomainIntroducedReply(m(XS.XS_IS_DOMAIN_INTRODUCED, 'T\0'))).toBe(true);
    expect(parseIsDomainIntroducedReply(m(XS.XS_IS_DOMAIN_INTRODUCED, 'F\0'))).toBe(false);
    expect(() => parseIsDomainIntroducedReply(m(XS.XS_IS_DOMAIN_INTRODUCED, 'Y\0'))).toThrow(/expected T or F/);
  });

  it('reads GET_PERMS, owner first', () => {
    expect(parseGetPermsReply(b('n0\0r3\0b7\0'))).toEqual([
      { perm: 'n', domid: 0 },
      { perm: 'r', domid: 3 },
      { perm: 'b', domid: 7 },
    ]);
    expect(() => parseGetPermsReply(b('n0\0q3\0'))).toThrow(XenstoreError);
    expect(() => parseGetPermsReply(b('n0\0q3\0'))).toThrow(/entry 1: permission "q3"/);
  });
});
