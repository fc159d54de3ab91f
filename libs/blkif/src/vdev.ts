// Virtual device numbers (xen-vbd-interface(7)): the `vdev` of a disk spec (xvda, hdc, sdb3, d0p1 or a bare
// number) to the device number that names the vbd in XenStore, and back. A vdev is what Xen 4.17's
// libxl__device_disk_dev_number (libxl_device.c) accepts, tried in its order: `d<disk>p<part>` and
// `xvd<letters>[part]`, then a bare number (the device number itself, whether or not it decodes to a
// name), then `hd` and `sd`. Disk letters count a..z, aa..zz, … as Linux names them (xvdaa = disk 26).
import { INT_MAX, parseCLiteral } from './c-literal.js';
import { BlkifError } from './errors.js';

export type VdevKind = 'xvd' | 'hd' | 'sd' | 'number';
export type NamedVdevKind = Exclude<VdevKind, 'number'>;

/** A disk named by its letters (or d<disk>p<part>, which is xvd). */
export interface NamedVdev {
  /** The device number (XenStore's `virtual-device`, the devid of the vbd): xvda = 51712. */
  devid: number;
  kind: NamedVdevKind;
  disk: number;
  partition: number;
  /** Canonical name: `xvda`, `xvdq`, `hdc1`, `sdb3` (d0p1 is `xvda1`). */
  name: string;
}

/** A bare number: taken as the device number itself; libxl does not decode it (disk = partition = -1). */
export interface NumberVdev {
  devid: number;
  kind: 'number';
  disk?: undefined;
  partition?: undefined;
  name?: undefined;
}

export type Vdev = NamedVdev | NumberVdev;

const XVD_MAJOR = 202;
/** Set in the extended xvd form `1<<28 | disk<<8 | part`, used when disk > 15 or part > 15. */
export const XVD_EXTENDED = 1 << 28;
const XVD_MAX_DISK = (1 << 20) - 1;
const XVD_MAX_PARTITION = 255;
const SD_MAJOR = 8;
const HD_MAJORS = [3, 22] as const;

const LIMITS: Record<NamedVdevKind, { disks: number; partitions: number }> = {
  xvd: { disks: XVD_MAX_DISK, partitions: XVD_MAX_PARTITION },
  hd: { disks: 3, partitions: 63 },
  sd: { disks: 15, partitions: 15 },
};

/** The device number of a disk and partition: ('xvd', 1, 0) = 51728. */
export function vdevDevid(kind: NamedVdevKind, disk: number, partition: number): number {
  const lim = LIMITS[kind];
  if (!Number.isInteger(disk) || disk < 0 || disk > lim.disks)
    throw new BlkifError('EINVAL', `${kind} disk ${disk} is outside 0..${lim.disks}`);
  if (!Number.isInteger(partition) || partition < 0 || partition > lim.partitions) {
    throw new BlkifError('EINVAL', `${kind} partition ${partition} is outside 0..${lim.partitions}`);
  }
  switch (kind) {
    case 'xvd':
      return disk <= 15 && partition <= 15
        ? (XVD_MAJOR << 8) | (disk << 4) | partition
        : XVD_EXTENDED | (disk << 8) | partition;
    case 'hd':
      return (HD_MAJORS[disk < 2 ? 0 : 1] << 8) | ((disk & 1) << 6) | partition;
    case 'sd':
      return (SD_MAJOR << 8) | (disk << 4) | partition;
  }
}

/** The vdev as libxl takes it; BlkifError EINVAL saying why when libxl would refuse it. */
export function parseVdev(vdev: string): Vdev {
  const v = decode(vdev);
  if (typeof v === 'string') throw new BlkifError('EINVAL', `invalid virtual device "${vdev}": ${v}`);
  return v;
}

/** The vdev as libxl takes it, or undefined where libxl says "Invalid or unsupported virtual disk identifier". */
export function vdevToDevice(vdev: string): Vdev | undefined {
  const v = decode(vdev);
  return typeof v === 'string' ? undefined : v;
}

/** The device number of a vdev: xvda = 51712, `51712` = 51712. */
export function vdevToDevid(vdev: string): number {
  return parseVdev(vdev).devid;
}

/** The disk Linux's blkfront names for a device number: 51712 = xvda, 2067 = sdb3; EINVAL if none. */
export function devidVdev(devid: number): NamedVdev {
  const bad = (why: string) => new BlkifError('EINVAL', `device number ${devid}: ${why}`);
  if (!isDevid(devid)) throw bad(`not a device number (0..${INT_MAX})`);
  if (devid & XVD_EXTENDED) {
    if (devid >= XVD_EXTENDED * 2) throw bad('bits above the extended-xvd flag (1<<28) are set');
    return decoded(devid, 'xvd', (devid >>> 8) & XVD_MAX_DISK, devid & 0xff);
  }
  const major = devid >>> 8;
  const minor = devid & 0xff;
  switch (major) {
    case XVD_MAJOR:
      return decoded(devid, 'xvd', minor >> 4, minor & 15);
    case SD_MAJOR:
      return decoded(devid, 'sd', minor >> 4, minor & 15);
    case HD_MAJORS[0]:
    case HD_MAJORS[1]: {
      const unit = minor >> 6;
      if (unit > 1) throw bad(`minor ${minor} names no IDE disk on major ${major}`);
      return decoded(devid, 'hd', (major === HD_MAJORS[0] ? 0 : 2) + unit, minor & 63);
    }
    default:
      throw bad(`major ${major} is none of xvd (202), sd (8), hd (3, 22), and the extended xvd flag (1<<28) is clear`);
  }
}

/**
 * libxl__devid_to_vdev: the xvd name of any device number, reading only its minor (the low byte, 16
 * partitions a disk; the extended form: all below 1<<28, 256 a disk). 51713 = xvda1, 2048 (sda) = xvda.
 */
export function devidToVdev(devid: number): string {
  if (!isDevid(devid)) throw new BlkifError('EINVAL', `device number ${devid}: not a device number (0..${INT_MAX})`);
  const extended = (devid & XVD_EXTENDED) !== 0;
  const minor = extended ? devid - XVD_EXTENDED : devid & 0xff;
  const parts = extended ? 256 : 16;
  return diskName('xvd', Math.floor(minor / parts), minor % parts);
}

/** a..z, aa..zz, …: disk 0 = a, 25 = z, 26 = aa (bijective base 26). */
export function diskLetters(disk: number): string {
  if (!Number.isSafeInteger(disk) || disk < 0) throw new BlkifError('EINVAL', `disk ${disk} is not a disk index`);
  let s = '';
  for (let n = disk + 1; n > 0; n = Math.floor(n / 26)) {
    n--;
    s = String.fromCharCode(97 + (n % 26)) + s;
  }
  return s;
}

/** The vdev, or why libxl refuses it. */
function decode(vdev: string): Vdev | string {
  // sscanf("d%ip%i"): %i reads C literals, so d0x1p010 is disk 1 partition 8. (libxl also lets it skip
  // blanks and take a sign, making d-1p0 the device number -16; we take neither.)
  const dp = /^d((?:0[xX])?[0-9a-fA-F]+)p((?:0[xX])?[0-9a-fA-F]+)$/.exec(vdev);
  if (dp) {
    const [, d, p] = dp;
    const disk = parseCLiteral(d);
    const partition = parseCLiteral(p);
    if (disk === undefined) return `disk "${d}" is not a C integer literal (decimal, 0 octal or 0x hex)`;
    if (partition === undefined) return `partition "${p}" is not a C integer literal (decimal, 0 octal or 0x hex)`;
    if (disk > XVD_MAX_DISK) return `disk ${d} is beyond ${XVD_MAX_DISK}`;
    if (partition > XVD_MAX_PARTITION) return `partition ${p} is beyond ${XVD_MAX_PARTITION}`;
    return named('xvd', Number(disk), Number(partition));
  }
  if (vdev.startsWith('xvd')) return lettered(vdev, 'xvd');
  // strtoul(vdev, &ep, 0) of the whole string: the device number itself, up to INT_MAX, even one that
  // decodes to no disk. (strtoul would also take a sign, turning -0 into 0 and -1 into ULONG_MAX.)
  const n = parseCLiteral(vdev);
  if (n !== undefined) {
    if (vdev.startsWith('+') || vdev.startsWith('-')) return 'a device number is written without a sign';
    if (n > INT_MAX) return `device number beyond ${INT_MAX}`;
    return { devid: Number(n), kind: 'number' };
  }
  if (/^[0-9]/.test(vdev)) return 'a device number is a C integer literal (decimal, 0 octal or 0x hex)';
  if (vdev.startsWith('hd')) return lettered(vdev, 'hd');
  if (vdev.startsWith('sd')) return lettered(vdev, 'sd');
  return 'not xvd<letters>[partition], hd.., sd.., d<disk>p<partition> or a device number';
}

// device_virtdisk_matches: the prefix, disk letters, then nothing or a partition number without leading
// zeroes. (libxl also takes no letter as disk -1 and lets strtoul skip blanks and a sign before the
// partition, so xvd1 and `xvda 1` pass there; we take neither.)
function lettered(vdev: string, kind: NamedVdevKind): NamedVdev | string {
  const lim = LIMITS[kind];
  let i = kind.length;
  let disk = -1;
  for (let c = vdev.charCodeAt(i); c >= 97 && c <= 122; c = vdev.charCodeAt(++i)) {
    disk = (disk + 1) * 26 + (c - 97);
    if (disk > lim.disks) return `${kind} disks go up to ${kind}${diskLetters(lim.disks)}`;
  }
  if (disk < 0) return `no disk letter after "${kind}" (a..z)`;
  const rest = vdev.slice(i);
  if (rest === '') return named(kind, disk, 0);
  if (rest.startsWith('0'))
    return 'a partition number has no leading zero (the whole disk is partition 0, written without one)';
  if (!/^[1-9][0-9]*$/.test(rest)) return `"${rest}" is not a partition number`;
  const partition = Number(rest);
  if (partition > lim.partitions) return `${kind} partitions go up to ${lim.partitions}`;
  return named(kind, disk, partition);
}

function named(kind: NamedVdevKind, disk: number, partition: number): NamedVdev {
  return { devid: vdevDevid(kind, disk, partition), kind, disk, partition, name: diskName(kind, disk, partition) };
}

/** Keeps the device number as given: the extended form of a small disk is still that disk to Linux. */
function decoded(devid: number, kind: NamedVdevKind, disk: number, partition: number): NamedVdev {
  return { devid, kind, disk, partition, name: diskName(kind, disk, partition) };
}

function diskName(kind: NamedVdevKind, disk: number, partition: number): string {
  return `${kind}${diskLetters(disk)}${partition === 0 ? '' : partition}`;
}

function isDevid(devid: number): boolean {
  return Number.isInteger(devid) && devid >= 0 && devid <= INT_MAX;
}
