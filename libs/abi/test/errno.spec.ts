// Xen's public errno.h takes its values from x86 Linux. Those it defines are checked against errno.h
// (xen/include/public/errno.h); the rest Dominion adds for its own services, with their x86 Linux values.
import { XEN_ERRNO, XSD_ERRORS, isXenErrno } from '@dominion/abi';

describe('XEN_ERRNO', () => {
  it('matches xen/include/public/errno.h for the names Xen defines', () => {
    const fromXen: Record<string, number> = {
      EPERM: 1,
      ENOENT: 2,
      ESRCH: 3,
      EIO: 5,
      ENXIO: 6,
      E2BIG: 7,
      EBADF: 9,
      EAGAIN: 11,
      ENOMEM: 12,
      EACCES: 13,
      EFAULT: 14,
      EBUSY: 16,
      EEXIST: 17,
      ENODEV: 19,
      EINVAL: 22,
      ENOSPC: 28,
      ERANGE: 34,
      ENOSYS: 38,
      ENODATA: 61,
      EOPNOTSUPP: 95,
      EISCONN: 106,
      ENOTCONN: 107,
      ESHUTDOWN: 108,
      ETIMEDOUT: 110,
    };
    for (const [name, value] of Object.entries(fromXen)) {
      expect([name, XEN_ERRNO[name as keyof typeof XEN_ERRNO]]).toEqual([name, value]);
    }
  });

  it('gives the names Xen lacks their x86 Linux values', () => {
    expect(XEN_ERRNO.ENOTDIR).toBe(20);
    expect(XEN_ERRNO.EISDIR).toBe(21);
    expect(XEN_ERRNO.EROFS).toBe(30);
    expect(XEN_ERRNO.ENOTEMPTY).toBe(39);
    expect(XEN_ERRNO.EPROTO).toBe(71);
    expect(XEN_ERRNO.ECONNREFUSED).toBe(111);
  });

  it('covers every xenstored error name, so XenStore errors map onto it', () => {
    for (const e of XSD_ERRORS) expect([e, isXenErrno(e)]).toEqual([e, true]);
  });

  it('knows errno names only', () => {
    expect(isXenErrno('EAGAIN')).toBe(true);
    expect(isXenErrno('EQUOTA')).toBe(false);
    expect(isXenErrno('toString')).toBe(false);
    expect(isXenErrno(11)).toBe(false);
  });
});
