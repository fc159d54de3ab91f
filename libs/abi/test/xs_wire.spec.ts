// Every number below is written out by hand from reference/xen-facts.md §4 (io/xs_wire.h), never derived
// from the constants under test.
import {
  XENSTORE_ABS_PATH_MAX,
  XENSTORE_CONNECTED,
  XENSTORE_ERROR,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_RECONNECT,
  XENSTORE_REL_PATH_MAX,
  XENSTORE_RING_OFFSETS,
  XENSTORE_RING_SIZE,
  XENSTORE_SERVER_FEATURE,
  XS,
  XS_DEBUG,
  XS_WATCH_PATH,
  XS_WATCH_TOKEN,
  XSD_ERRORS,
  XSD_SOCKMSG_SIZE,
  isXsdError,
  xsTypeName,
} from '@dominion/abi';

describe('enum xsd_sockmsg_type', () => {
  it('has the xs_wire.h value of every message type', () => {
    expect(XS).toEqual({
      XS_CONTROL: 0,
      XS_DIRECTORY: 1,
      XS_READ: 2,
      XS_GET_PERMS: 3,
      XS_WATCH: 4,
      XS_UNWATCH: 5,
      XS_TRANSACTION_START: 6,
      XS_TRANSACTION_END: 7,
      XS_INTRODUCE: 8,
      XS_RELEASE: 9,
      XS_GET_DOMAIN_PATH: 10,
      XS_WRITE: 11,
      XS_MKDIR: 12,
      XS_RM: 13,
      XS_SET_PERMS: 14,
      XS_WATCH_EVENT: 15,
      XS_ERROR: 16,
      XS_IS_DOMAIN_INTRODUCED: 17,
      XS_RESUME: 18,
      XS_SET_TARGET: 19,
      XS_RESET_WATCHES: 21,
      XS_DIRECTORY_PART: 22,
      XS_GET_FEATURE: 23,
      XS_SET_FEATURE: 24,
      XS_GET_QUOTA: 25,
      XS_SET_QUOTA: 26,
      XS_INVALID: 0xffff,
    });
    expect(XS.XS_DIRECTORY_PART).toBe(22);
  });

  it('keeps 20 (the removed XS_RESTRICT) unused, and XS_DEBUG as the old name of CONTROL', () => {
    expect(Object.values(XS)).not.toContain(20);
    expect(XS_DEBUG).toBe(0);
  });

  it('names types for messages, and unknown ones by number', () => {
    expect(xsTypeName(2)).toBe('XS_READ');
    expect(xsTypeName(15)).toBe('XS_WATCH_EVENT');
    expect(xsTypeName(22)).toBe('XS_DIRECTORY_PART');
    expect(xsTypeName(0xffff)).toBe('XS_INVALID');
    expect(xsTypeName(0)).toBe('XS_CONTROL');
    expect(xsTypeName(20)).toBe('XS_20');
    expect(xsTypeName(99)).toBe('XS_99');
  });
});

describe('xsd_errors', () => {
  it('lists the error names in xs_wire.h order', () => {
    expect(XSD_ERRORS).toEqual([
      'EINVAL',
      'EACCES',
      'EEXIST',
      'EISDIR',
      'ENOENT',
      'ENOMEM',
      'ENOSPC',
      'EIO',
      'ENOTEMPTY',
      'ENOSYS',
      'EROFS',
      'EBUSY',
      'EAGAIN',
      'EISCONN',
      'E2BIG',
      'EPERM',
    ]);
  });

  it('recognises xenstored error names and nothing else', () => {
    expect(isXsdError('ENOENT')).toBe(true);
    expect(isXsdError('EPERM')).toBe(true);
    // oxenstored's non-standard quota error is not in xsd_errors
    expect(isXsdError('EQUOTA')).toBe(false);
    expect(isXsdError('enoent')).toBe(false);
    expect(isXsdError('ESRCH')).toBe(false);
  });
});

describe('framing and the ring page', () => {
  it('has a 16-byte header and a 4096-byte payload limit', () => {
    expect(XSD_SOCKMSG_SIZE).toBe(16);
    expect(XENSTORE_PAYLOAD_MAX).toBe(4096);
    expect(XENSTORE_ABS_PATH_MAX).toBe(3072);
    expect(XENSTORE_REL_PATH_MAX).toBe(2048);
  });

  it('puts the watch event path before the token', () => {
    expect(XS_WATCH_PATH).toBe(0);
    expect(XS_WATCH_TOKEN).toBe(1);
  });

  it('lays out struct xenstore_domain_interface as Xen does', () => {
    expect(XENSTORE_RING_SIZE).toBe(1024);
    expect(XENSTORE_RING_OFFSETS).toEqual({
      req: 0,
      rsp: 1024,
      req_cons: 2048,
      req_prod: 2052,
      rsp_cons: 2056,
      rsp_prod: 2060,
      server_features: 2064,
      connection: 2068,
      error: 2072,
      evtchn_port: 2076,
    });
  });

  it('has the server feature bits, connection states and ring error codes', () => {
    expect(XENSTORE_SERVER_FEATURE).toEqual({
      XENSTORE_SERVER_FEATURE_RECONNECTION: 1,
      XENSTORE_SERVER_FEATURE_ERROR: 2,
      XENSTORE_SERVER_FEATURE_WATCHDEPTH: 4,
      XENSTORE_SERVER_FEATURE_DOMID_ANY: 8,
    });
    expect(XENSTORE_CONNECTED).toBe(0);
    expect(XENSTORE_RECONNECT).toBe(1);
    expect(XENSTORE_ERROR).toEqual({
      XENSTORE_ERROR_NONE: 0,
      XENSTORE_ERROR_COMM: 1,
      XENSTORE_ERROR_RINGIDX: 2,
      XENSTORE_ERROR_PROTO: 3,
    });
  });
});
