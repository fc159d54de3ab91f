// Relative XenStore paths inside a guest are relative to its home (/local/domain/<domid>).
import { GuestError } from './errors.js';

export function resolveXsPath(home: string, path: string): string {
  if (path === '') return home;
  if (path.startsWith('/')) return path;
  if (path.startsWith('@')) throw new GuestError('EINVAL', `xenstore path ${JSON.stringify(path)} is a special node`);
  return `${home}/${path}`;
}
