// The two recipes every durable component needs, written once (see the contract in fileio.ts).
import { dirname } from 'node:path';
import type { FileIO } from './fileio.js';

/**
 * mkdir -p whose result survives a power cut: each directory it had to create is a new name in its parent,
 * so each parent is synced. The parent of `dir` is synced even when nothing was created, because an earlier
 * run may have died between the mkdir and the sync.
 */
export async function mkdirDurably(io: FileIO, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await io.exists(d)); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  await io.mkdirp(dir);
  const parents = missing.length > 0 ? missing.map((d) => dirname(d)) : [dirname(dir)];
  for (const p of parents) await io.fsyncDir(p);
}

/** Replaces `path` so that a power cut leaves either the old contents or the new ones, never a mix. */
export async function writeFileDurably(io: FileIO, path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await io.open(tmp, { create: true, truncate: true });
  try {
    await fh.write(0, data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await io.rename(tmp, path);
  await io.fsyncDir(dirname(path));
}
