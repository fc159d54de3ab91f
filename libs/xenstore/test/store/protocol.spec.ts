// Request-level rules: supported types, reply types, the payload limit, malformed requests, CONTROL.
import { describe, expect, it } from '@jest/globals';
import { XS } from '@dominion/abi';
import { XenstoreEngine } from '../../src/store/index.js';
import { call, control, mkdir, raw, read, run, write } from './helpers.js';

function setup() {
  const e = new XenstoreEngine();
  return { e, dom0: e.connect(0), dom5: e.connect(5) };
}

describe('message types', () => {
  it('answers ENOSYS to types it does not implement, and to server-only or unknown ones', () => {
    const { dom0 } = setup();
    for (const type of [
      XS.XS_RESUME,
      XS.XS_SET_TARGET,
      XS.XS_GET_FEATURE,
      XS.XS_SET_FEATURE,
      XS.XS_WATCH_EVENT,
      XS.XS_ERROR,
      20,
      27,
      XS.XS_INVALID,
    ]) {
      expect({ type, reply: call(dom0, raw(type, '0\0')).reply }).toEqual({
        type,
        reply: { type: XS.XS_ERROR, payload: Buffer.from('ENOSYS\0') },
      });
    }
  });

  it('replies with the request’s type, or ERROR and the error name', () => {
    const { dom0 } = setup();
    expect(call(dom0, write('/a', 'v')).reply).toEqual({ type: XS.XS_WRITE, payload: Buffer.from('OK\0') });
    expect(call(dom0, read('/a')).reply).toEqual({ type: XS.XS_READ, payload: Buffer.from('v') });
    expect(call(dom0, read('/b')).reply).toEqual({ type: XS.XS_ERROR, payload: Buffer.from('ENOENT\0') });
  });

  it('answers E2BIG to an oversized payload whatever its type', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, raw(XS.XS_MKDIR, Buffer.alloc(5000, 0x61)), 'E:E2BIG'],
      [dom0, 0, raw(XS.XS_RESUME, Buffer.alloc(5000, 0x61)), 'E:E2BIG'],
    ]);
  });
});

describe('malformed requests', () => {
  it('fail alone; the store keeps serving', () => {
    const { dom0 } = setup();
    run([
      [dom0, 0, raw(XS.XS_READ, '/a\0/b\0'), 'E:EINVAL'],
      [dom0, 0, raw(XS.XS_WRITE, '/no-nul'), 'E:EINVAL'],
      [dom0, 0, raw(XS.XS_MKDIR, ''), 'E:EINVAL'],
      [dom0, 0, raw(XS.XS_GET_PERMS, '\xff\0'), 'E:EINVAL'],
      [dom0, 0, raw(XS.XS_UNWATCH, '/a\0'), 'E:EINVAL'],
      [dom0, 0, mkdir('/still/fine'), 'OK|'],
    ]);
  });

  it('explain themselves to the transport (detail), not to the client', () => {
    const { dom5 } = setup();
    const o = call(dom5, read('/local/domain/9/x'));
    expect(o.reply.payload).toEqual(Buffer.from('EACCES\0'));
    expect(o.detail).toMatch(/XS_READ from domain 5: .*\/local\/domain\/9\/x/);
    expect(call(dom5, { type: XS.XS_GET_DOMAIN_PATH, payload: Buffer.from('5\0') }).detail).toBeUndefined();
  });

  it('a closed connection gets errors, not service', () => {
    const { e } = setup();
    const c = e.connect(5);
    c.close();
    run([[c, 0, read('/local'), 'E:EINVAL']]);
  });

  it('connect refuses a domid that is not one', () => {
    const { e } = setup();
    expect(() => e.connect(0x7ff0)).toThrow(/domid/);
    expect(() => e.connect(-1)).toThrow(/domid/);
  });
});

describe('CONTROL', () => {
  it('is for privileged connections; supports check and help', () => {
    const { dom0, dom5 } = setup();
    run([
      [dom5, 0, control('check'), 'E:EACCES'],
      [dom0, 0, control('check'), 'OK|'],
      [dom0, 0, control('log', 'on'), 'E:EINVAL'],
    ]);
    expect(call(dom0, control('help')).reply.payload.toString()).toMatch(/^check\s+\nhelp\s+\n\0$/);
  });
});
