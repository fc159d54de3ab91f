// What a 9P server needs from a filesystem: inode-like nodes with reference counts (a fid holds one, as a
// FUSE lookup does, so that an unlinked file stays reachable through its fids), open-file handles (one per
// Tlopen/Tlcreate; locks belong to them), directory cookies that stay valid while the directory changes.
// Errors are thrown as P9Error (or any error whose `errno`/`kind` names a Linux errno).

export type P9NodeId = number;
export type P9Handle = number;

/** Who asks: the attach's uid and the caller's gid from the create message. No access checks are implied. */
export interface P9Cred {
  uid: number;
  gid: number;
}

export interface P9Time {
  sec: number;
  nsec: number;
}

export interface P9Attr {
  /** The node id; it is also the qid path. */
  ino: P9NodeId;
  /** Type and permission bits (S_IF* | 07777). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  blksize: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atime: P9Time;
  mtime: P9Time;
  ctime: P9Time;
  btime: P9Time;
  gen: number;
  /** Bumped by every change of content or attributes; the qid version. */
  dataVersion: number;
}

/** Tsetattr's changes. A time of 'now' is the server's clock. */
export interface P9SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: P9Time | 'now';
  mtime?: P9Time | 'now';
  /** ctime is always set on a change; true asks for it even when nothing else changes. */
  ctime?: boolean;
}

export interface P9DirEntry {
  name: string;
  ino: P9NodeId;
  mode: number;
  /** The position after this entry: passing it back continues with the next entry. Never 0. */
  cookie: number;
}

export interface P9StatFs {
  fstype: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: bigint;
  namelen: number;
}

/** A POSIX record lock as Tlock/Tgetlock carry it; length 0 means "to the end of the file". */
export interface P9Lock {
  /** P9_LOCK_TYPE */
  type: number;
  start: bigint;
  length: bigint;
  procId: number;
  clientId: string;
}

export interface P9Filesystem {
  /** The export's root; takes a reference. */
  root(): Promise<P9Attr>;
  /** The entry `name` of directory `dir` ('.' and '..' included); takes a reference. */
  lookup(dir: P9NodeId, name: string): Promise<P9Attr>;
  /** Takes one more reference on a node already referenced (a cloned fid). */
  retain(node: P9NodeId): void;
  /** Drops a reference taken by root, lookup, create or retain. */
  forget(node: P9NodeId): void;
  getattr(node: P9NodeId): Promise<P9Attr>;
  setattr(node: P9NodeId, changes: P9SetAttr, cred: P9Cred): Promise<P9Attr>;

  /** Opens with Linux O_* flags (O_TRUNC, O_APPEND, O_DIRECTORY honoured). */
  open(node: P9NodeId, flags: number, cred: P9Cred): Promise<P9Handle>;
  /** Creates and opens a regular file; takes a reference on it. EEXIST if the name exists. */
  create(
    dir: P9NodeId,
    name: string,
    flags: number,
    mode: number,
    cred: P9Cred,
  ): Promise<{ attr: P9Attr; handle: P9Handle }>;
  /** Up to `count` bytes; fewer only at the end of the file. Holes read as zeros. */
  read(handle: P9Handle, offset: number, count: number): Promise<Buffer>;
  /** Writes all of `data` (at the end for an O_APPEND handle); returns the count. */
  write(handle: P9Handle, offset: number, data: Buffer): Promise<number>;
  /** Entries after `cookie` (0 = from the start), at most `limit`; empty at the end. */
  readdir(handle: P9Handle, cookie: number, limit: number): Promise<P9DirEntry[]>;
  fsync(handle: P9Handle, datasync: boolean): Promise<void>;
  /** Closes a handle; its locks go with it. */
  release(handle: P9Handle): Promise<void>;

  mkdir(dir: P9NodeId, name: string, mode: number, cred: P9Cred): Promise<P9Attr>;
  /** unlinkat(2): `removeDir` is AT_REMOVEDIR. */
  unlink(dir: P9NodeId, name: string, removeDir: boolean): Promise<void>;
  /** rename(2): atomic, replacing a compatible existing target. */
  rename(oldDir: P9NodeId, oldName: string, newDir: P9NodeId, newName: string): Promise<void>;
  symlink(dir: P9NodeId, name: string, target: string, cred: P9Cred): Promise<P9Attr>;
  readlink(node: P9NodeId): Promise<string>;
  link(dir: P9NodeId, name: string, target: P9NodeId): Promise<void>;
  /** May refuse (EPERM, EOPNOTSUPP) what the backing store does not allow. */
  mknod(dir: P9NodeId, name: string, mode: number, rdev: number, cred: P9Cred): Promise<P9Attr>;
  statfs(): Promise<P9StatFs>;

  getxattr(node: P9NodeId, name: string): Promise<Buffer>;
  listxattr(node: P9NodeId): Promise<string[]>;
  /** flags: P9_XATTR_CREATE / P9_XATTR_REPLACE. */
  setxattr(node: P9NodeId, name: string, value: Buffer, flags: number): Promise<void>;
  removexattr(node: P9NodeId, name: string): Promise<void>;

  /** fcntl(F_SETLK) for the handle's owner; returns a P9_LOCK_STATUS (BLOCKED on a conflict). */
  lock(handle: P9Handle, lock: P9Lock): Promise<number>;
  /** fcntl(F_GETLK): the first conflicting lock, or the request with type UNLCK when there is none. */
  getlock(handle: P9Handle, lock: P9Lock): Promise<P9Lock>;
}
