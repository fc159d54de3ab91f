// Request payloads written out by hand from docs/misc/xenstore.txt (`|` there is a NUL here).
import { XS } from '@dominion/abi';
import { xsRequest, type XsRequest } from '../../src/wire/index.js';
import { XenstoreError } from '../../src/errors.js';

const req = (type: number, payload: string): XsRequest =>
  ({ type, payload: Buffer.from(payload, 'latin1') }) as XsRequest;

describe('xsRequest payloads', () => {
  const cases: [string, XsRequest, XsRequest][] = [
    ['read', xsRequest.read('/local/domain/1/name'), req(XS.XS_READ, '/local/domain/1/name\0')],
    ['write', xsRequest.write('/vm/u/name', 'guest'), req(XS.XS_WRITE, '/vm/u/name\0guest')],
    ['write of an empty value', xsRequest.write('/a', ''), req(XS.XS_WRITE, '/a\0')],
    ['write of raw bytes', xsRequest.write('/a', Buffer.from([0, 1, 0xff])), req(XS.XS_WRITE, '/a\0\x00\x01\xff')],
    ['mkdir', xsRequest.mkdir('/local/domain/1/data'), req(XS.XS_MKDIR, '/local/domain/1/data\0')],
    ['rm', xsRequest.rm('/local/domain/1/device'), req(XS.XS_RM, '/local/domain/1/device\0')],
    ['directory', xsRequest.directory('/local/domain'), req(XS.XS_DIRECTORY, '/local/domain\0')],
    [
      'directoryPart',
      xsRequest.directoryPart('/local/domain', 4090),
      req(XS.XS_DIRECTORY_PART, '/local/domain\x004090\0'),
    ],
    ['getPerms', xsRequest.getPerms('/local'), req(XS.XS_GET_PERMS, '/local\0')],
    ['setPerms (strings)', xsRequest.setPerms('/x', ['n1', 'r0']), req(XS.XS_SET_PERMS, '/x\0n1\0r0\0')],
    [
      'setPerms (XsPerm)',
      xsRequest.setPerms('/x', [
        { domid: 5, perm: 'b' },
        { domid: 0, perm: 'w' },
      ]),
      req(XS.XS_SET_PERMS, '/x\0b5\0w0\0'),
    ],
    ['watch', xsRequest.watch('/local/domain/2/device', 'tok-1'), req(XS.XS_WATCH, '/local/domain/2/device\0tok-1\0')],
    ['watch with depth', xsRequest.watch('@releaseDomain', 'r', 1), req(XS.XS_WATCH, '@releaseDomain\0r\x001\0')],
    ['unwatch', xsRequest.unwatch('/a', 't'), req(XS.XS_UNWATCH, '/a\0t\0')],
    ['transactionStart', xsRequest.transactionStart(), req(XS.XS_TRANSACTION_START, '\0')],
    ['transactionEnd commit', xsRequest.transactionEnd(true), req(XS.XS_TRANSACTION_END, 'T\0')],
    ['transactionEnd abort', xsRequest.transactionEnd(false), req(XS.XS_TRANSACTION_END, 'F\0')],
    ['introduce', xsRequest.introduce(3, 1048575, 17), req(XS.XS_INTRODUCE, '3\x001048575\x0017\0')],
    ['release', xsRequest.release(3), req(XS.XS_RELEASE, '3\0')],
    ['resume', xsRequest.resume(3), req(XS.XS_RESUME, '3\0')],
    ['getDomainPath', xsRequest.getDomainPath(12), req(XS.XS_GET_DOMAIN_PATH, '12\0')],
    ['isDomainIntroduced', xsRequest.isDomainIntroduced(0), req(XS.XS_IS_DOMAIN_INTRODUCED, '0\0')],
    ['setTarget', xsRequest.setTarget(4, 3), req(XS.XS_SET_TARGET, '4\x003\0')],
    ['resetWatches', xsRequest.resetWatches(), req(XS.XS_RESET_WATCHES, '\0')],
    ['control', xsRequest.control('log', 'on\0'), req(XS.XS_CONTROL, 'log\0on\0')],
    ['control without parameters', xsRequest.control('check'), req(XS.XS_CONTROL, 'check\0')],
  ];

  it.each(cases)('%s', (_name, got, want) => {
    expect(got.type).toBe(want.type);
    expect(got.payload.toString('hex')).toBe(want.payload.toString('hex'));
  });

  it('sends a WRITE value as it is, NULs included, without a terminator', () => {
    const v = Buffer.from('a\0b', 'latin1');
    expect(xsRequest.write('/k', v).payload).toEqual(Buffer.from('/k\0a\0b', 'latin1'));
  });
});

describe('xsRequest refusals', () => {
  it('refuses a NUL inside a path or token (it would shift every later field) with EINVAL', () => {
    expect(xsRequest.read('/a/b').payload.length).toBe(5);
    expect(() => xsRequest.read('/a\0b')).toThrow(XenstoreError);
    expect(() => xsRequest.read('/a\0b')).toThrow(
      expect.objectContaining({ kind: 'EINVAL', message: 'XS_READ: path "/a\\u0000b" contains a NUL' }),
    );
    expect(() => xsRequest.write('/a\0', 'v')).toThrow(/XS_WRITE: path/);
    expect(() => xsRequest.watch('/a', 't\0x')).toThrow(/XS_WATCH: token/);
    expect(() => xsRequest.control('lo\0g')).toThrow(/XS_CONTROL: command/);
  });

  it('refuses a payload over XENSTORE_PAYLOAD_MAX with E2BIG, as libxenstore does before sending', () => {
    // "/k\0" is 3 bytes: 4093 bytes of value make exactly 4096.
    expect(xsRequest.write('/k', Buffer.alloc(4093)).payload.length).toBe(4096);
    expect(() => xsRequest.write('/k', Buffer.alloc(4094))).toThrow(
      expect.objectContaining({ kind: 'E2BIG', message: expect.stringContaining('XS_WRITE: payload of 4097 bytes') }),
    );
    expect(() => xsRequest.read('/' + 'a'.repeat(4095))).toThrow(expect.objectContaining({ kind: 'E2BIG' }));
  });

  it('refuses domids, frame numbers and ports that are not unsigned integers in range', () => {
    expect(xsRequest.getDomainPath(65535).payload.toString()).toBe('65535\0');
    expect(() => xsRequest.getDomainPath(65536)).toThrow(
      expect.objectContaining({
        kind: 'EINVAL',
        message: 'XS_GET_DOMAIN_PATH: domid 65536 is not an integer in 0..65535',
      }),
    );
    expect(() => xsRequest.release(-1)).toThrow(/XS_RELEASE: domid -1/);
    expect(() => xsRequest.introduce(1.5, 1, 1)).toThrow(/XS_INTRODUCE: domid 1.5/);
    expect(() => xsRequest.introduce(1, -1, 1)).toThrow(/XS_INTRODUCE: gfn -1/);
    expect(() => xsRequest.introduce(1, 1, 2 ** 32)).toThrow(/XS_INTRODUCE: evtchn 4294967296/);
    expect(() => xsRequest.setTarget(1, 70000)).toThrow(/XS_SET_TARGET: target domid 70000/);
    expect(() => xsRequest.directoryPart('/a', -1)).toThrow(/XS_DIRECTORY_PART: offset -1/);
    expect(() => xsRequest.watch('/a', 't', 0.5)).toThrow(/XS_WATCH: depth 0.5/);
  });

  it('refuses malformed or missing permissions with EINVAL naming the entry', () => {
    expect(xsRequest.setPerms('/x', ['b0']).payload.toString('latin1')).toBe('/x\0b0\0');
    expect(() => xsRequest.setPerms('/x', [])).toThrow(
      expect.objectContaining({ kind: 'EINVAL', message: 'XS_SET_PERMS /x: no permissions given' }),
    );
    expect(() => xsRequest.setPerms('/x', ['r0', 'x1'])).toThrow(/permission "x1"/);
    expect(() => xsRequest.setPerms('/x', [{ domid: 0x7ff0, perm: 'r' }])).toThrow(/r32752: 32752 is not a domid/);
  });
});
