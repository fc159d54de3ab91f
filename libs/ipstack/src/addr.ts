// MAC addresses as canonical lower-case strings; IPv4 addresses as unsigned 32-bit numbers inside the
// stack (subnet tests are masks) and dotted quads at the API.
import { IpStackError } from './errors.js';

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const IPV4_BROADCAST = 0xffffffff;

export function parseMac(text: string, what: string): string {
  if (!/^[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}$/i.test(text))
    throw new IpStackError('EINVAL', `${what}: ${JSON.stringify(text)} is not a MAC address`);
  return text
    .split(':')
    .map((o) => o.toLowerCase().padStart(2, '0'))
    .join(':');
}

export function macAt(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + bytes[at + i].toString(16).padStart(2, '0');
  return s;
}

export function putMac(bytes: Uint8Array, at: number, mac: string): void {
  const parts = mac.split(':');
  for (let i = 0; i < 6; i++) bytes[at + i] = parseInt(parts[i], 16);
}

/** Group bit set: broadcast or multicast. */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

export function parseIpv4(text: string, what: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255))
    throw new IpStackError('EINVAL', `${what}: ${JSON.stringify(text)} is not an IPv4 address`);
  return parts.reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
}

export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

export function ipv4At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

export function putIpv4(bytes: Uint8Array, at: number, ip: number): void {
  bytes[at] = ip >>> 24;
  bytes[at + 1] = (ip >>> 16) & 0xff;
  bytes[at + 2] = (ip >>> 8) & 0xff;
  bytes[at + 3] = ip & 0xff;
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
