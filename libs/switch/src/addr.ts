// MAC and IPv4 addresses as they appear in the vif spec (`mac=00:16:3e:..`, `ip=a.b.c.d ...`), kept
// as canonical lower-case strings so they compare and key maps directly.
import { SwitchError } from './errors.js';

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** `00:16:3e:01:02:03` from 6 bytes at `at`. */
export function macAt(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + bytes[at + i].toString(16).padStart(2, '0');
  return s;
}

/** The canonical form of a written MAC, or a SwitchError EINVAL naming `what`. */
export function parseMac(text: string, what: string): string {
  const m = /^([0-9a-f]{1,2})(?::([0-9a-f]{1,2})){5}$/i.test(text) ? text.split(':') : undefined;
  if (!m) throw new SwitchError('EINVAL', `${what}: ${JSON.stringify(text)} is not a MAC address`);
  return m.map((o) => o.toLowerCase().padStart(2, '0')).join(':');
}

/** Group bit: broadcast and multicast destinations, never learned as a source. */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

export function ipv4At(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

export function parseIpv4(text: string, what: string): string {
  const parts = text.split('.');
  const ok = parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
  if (!ok) throw new SwitchError('EINVAL', `${what}: ${JSON.stringify(text)} is not an IPv4 address`);
  return text;
}
