// Which file a VBD's `params` names, and whether blkback may open it. `params` is what libxl writes: a path
// (backend type phy) or `<format>:<path>` (qdisk); only raw images are served. A relative path resolves
// under the image dir; an absolute one must lie under the image dir or a directory of
// DOMINION_BLKBACK_ALLOW_DIRS, also after symlinks are followed, so a guest's config cannot reach
// /etc/shadow through blkback. Dominion's `size` key sizes an image created on demand.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { BlkbackConfig } from './config.js';
import { BlkbackError } from './errors.js';

const RAW_FORMATS = new Set(['raw', 'aio']);
const OTHER_FORMATS = new Set(['qcow', 'qcow2', 'qed', 'vhd', 'vhdx', 'vmdk']);

export function isUnder(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

/** The deepest existing ancestor's real path, with the rest appended: where the path really points. */
function realTarget(path: string): string {
  let head = path;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const up = dirname(head);
    if (up === head) return path;
    tail.unshift(head.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
    head = up;
  }
  return resolve(realpathSync(head), ...tail);
}

/**
 * The absolute, symlink-free path of the image `params` (read at `key`) names; EINVAL for a format other
 * than raw or an empty value, EACCES for a path outside the image dir and the allowed dirs.
 */
export function resolveTarget(params: string, cfg: Pick<BlkbackConfig, 'imageDir' | 'allowDirs'>, key: string): string {
  let path = params;
  const m = /^([a-z0-9]+):(.*)$/.exec(params);
  if (m && (RAW_FORMATS.has(m[1]) || OTHER_FORMATS.has(m[1]))) {
    if (OTHER_FORMATS.has(m[1]))
      throw new BlkbackError('EINVAL', `${key}: format ${m[1]} of ${JSON.stringify(params)} is not served (raw only)`);
    path = m[2];
  }
  if (path === '') throw new BlkbackError('EINVAL', `${key}: no target (empty params)`);
  const abs = isAbsolute(path) ? resolve(path) : resolve(cfg.imageDir, path);
  const roots = [cfg.imageDir, ...cfg.allowDirs];
  const real = realTarget(abs);
  const realRoots = roots.map((r) => realTarget(r));
  if (!roots.some((r) => isUnder(abs, r)) || !realRoots.some((r) => isUnder(real, r))) {
    throw new BlkbackError(
      'EACCES',
      `${key}: target ${abs}${real !== abs ? ` (really ${real})` : ''} is outside ${roots.join(', ')} (DOMINION_BLKBACK_IMAGE_DIR, DOMINION_BLKBACK_ALLOW_DIRS)`,
    );
  }
  return real;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Dominion's `size` key: bytes, or a number with a binary suffix K, M, G or T (qemu-img's); whole sectors. */
export function parseImageSize(text: string, key: string, sectorSize = 512): number {
  const m = /^([0-9]{1,15})([KMGT]?)$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n % sectorSize !== 0)
    throw new BlkbackError(
      'EINVAL',
      `${key}: ${JSON.stringify(text)} is not a size in whole ${sectorSize}-byte sectors (bytes, or with K/M/G/T)`,
    );
  return n;
}
