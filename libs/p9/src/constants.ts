// 9P2000.L numbers (Linux include/net/9p/9p.h; diod protocol.md). Message ids pair up: R = T + 1.

export const P9_VERSION_L = '9P2000.L';
export const P9_VERSION_UNKNOWN = 'unknown';
export const P9_NOTAG = 0xffff;
export const P9_NOFID = 0xffffffff;
export const P9_NONUNAME = 0xffffffff;
/** Twalk carries at most this many names. */
export const P9_MAXWELEM = 16;
/** Header bytes of Twrite/Rread around their data (size, type, tag, fid, offset, count; Linux rounds to 24). */
export const P9_IOHDRSZ = 24;
/** Header bytes of Rreaddir around its entries, as Linux reserves them. */
export const P9_READDIRHDRSZ = 24;
/** size[4] type[1] tag[2]. */
export const P9_HEADER_SIZE = 7;
/** Smallest msize we negotiate: xen-9pfsd's minimum, big enough for Rwalk's 16 qids and Rgetattr. */
export const P9_MIN_MSIZE = 2048;

/** qid.type bits. */
export const QT = {
  DIR: 0x80,
  APPEND: 0x40,
  EXCL: 0x20,
  MOUNT: 0x10,
  AUTH: 0x08,
  TMP: 0x04,
  SYMLINK: 0x02,
  LINK: 0x01,
  FILE: 0x00,
} as const;

/** Tlopen/Tlcreate flags: Linux's generic O_* values (octal), which v9fs sends as they are. */
export const P9_O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  NOACCESS: 0o3,
  ACCMODE: 0o3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  FASYNC: 0o20000,
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4000000,
} as const;

/** Tgetattr request_mask / Rgetattr valid bits. */
export const P9_GETATTR = {
  MODE: 0x1n,
  NLINK: 0x2n,
  UID: 0x4n,
  GID: 0x8n,
  RDEV: 0x10n,
  ATIME: 0x20n,
  MTIME: 0x40n,
  CTIME: 0x80n,
  INO: 0x100n,
  SIZE: 0x200n,
  BLOCKS: 0x400n,
  BTIME: 0x800n,
  GEN: 0x1000n,
  DATA_VERSION: 0x2000n,
  BASIC: 0x7ffn,
  ALL: 0x3fffn,
} as const;

/** Tsetattr valid bits. A time bit without its _SET bit means "now, on the server". */
export const P9_SETATTR = {
  MODE: 0x1,
  UID: 0x2,
  GID: 0x4,
  SIZE: 0x8,
  ATIME: 0x10,
  MTIME: 0x20,
  CTIME: 0x40,
  ATIME_SET: 0x80,
  MTIME_SET: 0x100,
} as const;

/** Tunlinkat flags. */
export const P9_AT_REMOVEDIR = 0x200;

/** Txattrcreate flags (setxattr(2)). */
export const P9_XATTR_CREATE = 1;
export const P9_XATTR_REPLACE = 2;

/** Tlock/Tgetlock type, Tlock flags and Rlock status. */
export const P9_LOCK_TYPE = { RDLCK: 0, WRLCK: 1, UNLCK: 2 } as const;
export const P9_LOCK_FLAGS_BLOCK = 1;
export const P9_LOCK_FLAGS_RECLAIM = 2;
export const P9_LOCK_STATUS = { SUCCESS: 0, BLOCKED: 1, ERROR: 2, GRACE: 3 } as const;

/** File type bits of mode (Linux stat.h). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** Rreaddir entry type: Linux's DT_* (the mode's type bits shifted right by 12). */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

export function dtOfMode(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

export function qidTypeOfMode(mode: number): number {
  const fmt = mode & S_IFMT;
  if (fmt === S_IFDIR) return QT.DIR;
  if (fmt === S_IFLNK) return QT.SYMLINK;
  return QT.FILE;
}
