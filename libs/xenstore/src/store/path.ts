// XenStore path rules (docs/misc/xenstore.txt, tools/xenstored core.c canonicalize()): alphanumerics and
// `- / _ @`, no `//`, no trailing `/` except the root, `@…` only where special paths are allowed, at most
// XENSTORE_ABS_PATH_MAX bytes; a path without a leading `/` or `@` is relative to /local/domain/<domid>.
import { XENSTORE_ABS_PATH_MAX } from '@dominion/abi';
import { XenstoreError } from '../errors.js';

const VALID_CHARS = /^[A-Za-z0-9\-/_@]+$/;
// Path-length quota counts what follows a domain's home, as C xenstored does.
const LOCAL_DOMAIN_PREFIX = /^\/local\/domain\/\d{1,5}\//;

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

export function isSpecialPath(path: string): boolean {
  return path.charCodeAt(0) === 0x40; // '@'
}

export function isRelativePath(path: string): boolean {
  const c = path.charCodeAt(0);
  return c !== 0x2f && c !== 0x40; // neither '/' nor '@'
}

/**
 * The absolute form of a request's path, or EINVAL naming what is wrong.
 * `home` is the caller's /local/domain/<domid>; `relMax` (0 = unlimited) bounds the part after any
 * /local/domain/<n>/ prefix, i.e. the path-max quota of unprivileged callers.
 */
export function canonicalize(path: string, home: string, allowSpecial: boolean, relMax: number): string {
  if (path.length === 0) throw new XenstoreError('EINVAL', 'path is empty');
  if (!VALID_CHARS.test(path)) {
    throw new XenstoreError('EINVAL', `path ${JSON.stringify(path)}: only alphanumerics and - / _ @ are allowed`);
  }
  if (!allowSpecial && isSpecialPath(path)) {
    throw new XenstoreError('EINVAL', `path ${JSON.stringify(path)}: special @ paths are not allowed here`);
  }
  const name = isRelativePath(path) ? `${home}/${path}` : path;
  if (name.length > 1 && name.charCodeAt(name.length - 1) === 0x2f) {
    throw new XenstoreError('EINVAL', `path ${JSON.stringify(path)} ends with /`);
  }
  if (name.includes('//')) throw new XenstoreError('EINVAL', `path ${JSON.stringify(path)} contains //`);
  if (name.length > XENSTORE_ABS_PATH_MAX) {
    throw new XenstoreError(
      'EINVAL',
      `path of ${name.length} bytes exceeds XENSTORE_ABS_PATH_MAX ${XENSTORE_ABS_PATH_MAX}`,
    );
  }
  if (relMax > 0) {
    const local = LOCAL_DOMAIN_PREFIX.exec(name);
    const len = name.length - (local ? local[0].length : 0);
    if (len > relMax) {
      throw new XenstoreError(
        'EINVAL',
        `path ${JSON.stringify(path)}: ${len} bytes exceed the path-max quota ${relMax}`,
      );
    }
  }
  return name;
}

/** `/a/b` -> `/a`; `/a` and `@special` -> `/` (C xenstored's get_parent). */
export function parentOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i <= 0 ? '/' : name.slice(0, i);
}

export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

export function childPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** True when `name` is `ancestor` or below it. */
export function isUnder(name: string, ancestor: string): boolean {
  if (ancestor === '/') return name.charCodeAt(0) === 0x2f;
  return name === ancestor || (name.startsWith(ancestor) && name.charCodeAt(ancestor.length) === 0x2f);
}
