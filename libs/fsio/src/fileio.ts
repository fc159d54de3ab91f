// The file I/O every durable component goes through (xenstored's store, the ZFS engine). It is small on
// purpose: each call is one POSIX operation, so that CrashSimFileIO can model what a power cut does to it.
//
// Durability contract (the POSIX one, without the guarantees some filesystems add on top):
//  - A write, append or truncate is visible to reads at once, but it is DURABLE only once a later sync()
//    or datasync() on a handle of the same file has COMPLETED. Until then a power cut may drop it, keep it,
//    keep only some of its sectors (a torn write), or keep a later write while dropping an earlier one.
//    A sync covers the writes that completed before it was called, not writes issued while it runs.
//  - sync() and datasync() give the same guarantee here: file data and the size needed to read it back.
//  - Names are directory data. Creating a file, mkdir, rename and unlink are durable only once fsyncDir()
//    of the directory holding the name has completed (of both directories for a rename across them).
//    Syncing a file does not make its name durable, and fsyncDir() does not make a file's data durable.
//  - A rename within one directory is atomic, also across a power cut: the target name then refers to
//    either the old file or the new one, never to neither, nor to a partial file if the new file's data
//    was synced before the rename.
//  - A handle refers to the file, not to its name (it keeps working after rename or unlink).
// So the recipe for replacing a file is: write a temporary, sync it, rename it over the target, fsyncDir.
// Failures are FsioError with an errno kind; after a failed sync the data's state is unknown (the kernel
// may have dropped the dirty pages), so a caller must not retry the sync and assume success.

export interface OpenOptions {
  /** Create the file if it does not exist (O_CREAT). The new name still needs fsyncDir(). */
  readonly create?: boolean;
  /** With create: fail with EEXIST if the file exists (O_EXCL). */
  readonly exclusive?: boolean;
  /** Truncate to zero length on open (O_TRUNC); durable only after a sync. */
  readonly truncate?: boolean;
  /** Open for reading only: write, append and truncate then fail. */
  readonly readOnly?: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Up to `length` bytes from `offset`; fewer only at end of file. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Writes all of `data` at `offset`; writing past the end leaves a zero-filled hole. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Writes at the current end of file. The handle assumes it is the file's only writer. */
  append(data: Uint8Array): Promise<void>;
  size(): Promise<number>;
  truncate(length: number): Promise<void>;
  /** fsync(2): everything written before the call is durable once this resolves. */
  sync(): Promise<void>;
  /** fdatasync(2): the same guarantee for data and size, skipping timestamps. */
  datasync(): Promise<void>;
  /** Closing does not sync. Closing twice is harmless. */
  close(): Promise<void>;
}

export interface FileIO {
  open(path: string, options?: OpenOptions): Promise<FileHandle>;
  /** The whole file (reads what is visible, durable or not). */
  readFile(path: string): Promise<Buffer>;
  /** Creates or replaces the contents in place: NOT crash-safe; see writeFileDurably(). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Atomically points `to` at the file or directory `from` names, replacing what `to` named. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** mkdir -p. Each directory it creates is a new name in its parent, durable after fsyncDir(parent). */
  mkdirp(path: string): Promise<void>;
  /** Entry names, sorted. */
  readdir(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Makes the directory's entries (creates, renames, unlinks) durable. */
  fsyncDir(path: string): Promise<void>;
}
