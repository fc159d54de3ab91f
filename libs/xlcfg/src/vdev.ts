// A disk's vdev to its virtual device number, as libxl__device_disk_dev_number (libxl_device.c) and
// xen-vbd-interface(7) define it: `d<disk>p<part>` and `xvd<letters>[part]` first, then a bare number
// (taken as the device number itself), then `hd` and `sd`. Disk letters count a..z, aa..zz, … as Linux
// names them (xvdaa = disk 26). xvd uses major 202 while disk <= 15 and part <= 15, else the extended
// form 1<<28 | disk<<8 | part.
import { INT_MAX, parseCLiteral } from './c-number.js';

export type VdevKind = 'xvd' | 'hd' | 'sd' | 'number';

export interface VirtualDevice {
  /** The device number (XenStore's `virtual-device`, the devid of the vbd): xvda = 51712. */
  devid: number;
  kind: VdevKind;
  /** Undefined for a bare device number, which libxl does not decode either. */
  disk?: number;
  partition?: number;
}

const XVD_MAX_DISK = (1 << 20) - 1;
const EXTENDED = 1 << 28;

/** The device number of a vdev, or undefined when libxl would call it an "Invalid or unsupported virtual disk identifier". */
export function vdevToDevice(vdev: string): VirtualDevice | undefined {
  // sscanf("d%ip%i"): %i reads C literals (0x hex, 0 octal); xl would also take a sign or blanks.
  const dp = /^d((?:0[xX])?[0-9a-fA-F]+)p((?:0[xX])?[0-9a-fA-F]+)$/.exec(vdev);
  if (dp) {
    const disk = parseCLiteral(dp[1]);
    const part = parseCLiteral(dp[2]);
    if (disk !== undefined && part !== undefined && disk < BigInt(XVD_MAX_DISK + 1) && part < 256n) {
      return xvd(Number(disk), Number(part));
    }
  }
  const x = letters(vdev, 'xvd', XVD_MAX_DISK, 255);
  if (x) return xvd(...x);
  // strtoul(…, 0) of the whole string, up to INT_MAX
  const n = parseCLiteral(vdev);
  if (n !== undefined && !vdev.startsWith('+') && !vdev.startsWith('-')) {
    return n <= BigInt(INT_MAX) ? { devid: Number(n), kind: 'number' } : undefined;
  }
  const hd = letters(vdev, 'hd', 3, 63);
  if (hd) {
    const [disk, partition] = hd;
    return { devid: ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | partition, kind: 'hd', disk, partition };
  }
  const sd = letters(vdev, 'sd', 15, 15);
  if (sd) {
    const [disk, partition] = sd;
    return { devid: (8 << 8) | (disk << 4) | partition, kind: 'sd', disk, partition };
  }
  return undefined;
}

function xvd(disk: number, partition: number): VirtualDevice {
  const devid =
    disk <= 15 && partition <= 15 ? (202 << 8) | (disk << 4) | partition : EXTENDED + disk * 256 + partition;
  return { devid, kind: 'xvd', disk, partition };
}

// device_virtdisk_matches: the prefix, one or more disk letters in bijective base 26, then nothing or a
// partition number without leading zeroes. (libxl also lets strtoul skip blanks and a sign there, and
// takes `xvd` with no letter as disk -1; we take neither.)
function letters(vdev: string, prefix: string, maxDisk: number, maxPart: number): [number, number] | undefined {
  if (!vdev.startsWith(prefix)) return undefined;
  const m = /^([a-z]+)([1-9][0-9]*)?$/.exec(vdev.slice(prefix.length));
  if (!m) return undefined;
  let disk = -1;
  for (const c of m[1]) {
    disk = (disk + 1) * 26 + (c.charCodeAt(0) - 97);
    if (disk > maxDisk) return undefined;
  }
  const partition = m[2] === undefined ? 0 : Number(m[2]);
  if (partition > maxPart) return undefined;
  return [disk, partition];
}

/** libxl__devid_to_vdev: the xvd name Linux gives a device number (51712 → xvda, 51713 → xvda1). */
export function devidToVdev(devid: number): string {
  const extended = (devid & EXTENDED) !== 0;
  const minor = extended ? devid - EXTENDED : devid & 0xff;
  const parts = extended ? 256 : 16;
  const part = minor % parts;
  return `xvd${diskLetters(Math.floor(minor / parts))}${part === 0 ? '' : part}`;
}

/** 0 → a, 25 → z, 26 → aa. */
export function diskLetters(disk: number): string {
  let s = '';
  for (let n = disk; ; n = Math.floor(n / 26) - 1) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    if (n < 26) return s;
  }
}
