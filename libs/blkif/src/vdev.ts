// Virtual device numbers (docs/man/xen-vbd-interface.7, libxl__device_disk_dev_number): the `vdev` of a
// disk spec (xvda, hdc, sdb3, d0p1 or a bare number) to the devid that names the device in XenStore,
// and back. Disk letters count a..z, aa..zz, ... (bijective base 26).
import { BlkifError } from './errors.js';

export type VdevType = 'xvd' | 'hd' | 'sd';

export interface Vdev {
  devid: number;
  type: VdevType;
  disk: number;
  partition: number;
  /** Canonical name: `xvda`, `xvdq`, `hdc1`, `sdb3`. */
  name: string;
}

/** xvd: major 202 for disk <= 15 and partition <= 15, else the extended form. */
const XVD_MAJOR = 202;
export const XVD_EXTENDED = 1 << 28;
const XVD_MAX_DISK = (1 << 20) - 1;
const XVD_MAX_PARTITION = 255;
const SD_MAJOR = 8;
const HD_MAJORS = [3, 22] as const;
const INT_MAX = 0x7fffffff;

const LIMITS: Record<VdevType, { disks: number; partitions: number }> = {
  xvd: { disks: XVD_MAX_DISK, partitions: XVD_MAX_PARTITION },
  hd: { disks: 3, partitions: 63 },
  sd: { disks: 15, partitions: 15 },
};

export function vdevDevid(type: VdevType, disk: number, partition: number): number {
  const lim = LIMITS[type];
  if (!Number.isInteger(disk) || disk < 0 || disk > lim.disks)
    throw new BlkifError('EINVAL', `${type} disk ${disk} is outside 0..${lim.disks}`);
  if (!Number.isInteger(partition) || partition < 0 || partition > lim.partitions) {
    throw new BlkifError('EINVAL', `${type} partition ${partition} is outside 0..${lim.partitions}`);
  }
  switch (type) {
    case 'xvd':
      return disk <= 15 && partition <= 15
        ? (XVD_MAJOR << 8) | (disk << 4) | partition
        : (XVD_EXTENDED | (disk << 8) | partition) >>> 0;
    case 'hd':
      return (HD_MAJORS[disk < 2 ? 0 : 1] << 8) | ((disk & 1) << 6) | partition;
    case 'sd':
      return (SD_MAJOR << 8) | (disk << 4) | partition;
  }
}

/** The devid of a vdev as xl.cfg's disk spec accepts it, with the reason when it is not one. */
export function parseVdev(vdev: string): Vdev {
  const bad = (why: string) => new BlkifError('EINVAL', `invalid virtual device "${vdev}": ${why}`);
  const dp = /^d(\d+)p(\d+)$/.exec(vdev);
  if (dp) {
    const disk = Number(dp[1]);
    const partition = Number(dp[2]);
    if (disk > XVD_MAX_DISK) throw bad(`disk ${dp[1]} is beyond ${XVD_MAX_DISK}`);
    if (partition > XVD_MAX_PARTITION) throw bad(`partition ${dp[2]} is beyond ${XVD_MAX_PARTITION}`);
    return named('xvd', disk, partition);
  }
  if (vdev.startsWith('xvd')) return named('xvd', ...diskAndPartition(vdev, 'xvd', bad));
  if (/^(0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(vdev)) {
    const n =
      vdev.startsWith('0x') || vdev.startsWith('0X')
        ? parseInt(vdev.slice(2), 16)
        : /^0[0-7]/.test(vdev)
          ? parseInt(vdev, 8)
          : Number(vdev);
    if (n > INT_MAX) throw bad(`device number beyond ${INT_MAX}`);
    try {
      return devidVdev(n);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  if (vdev.startsWith('hd')) return named('hd', ...diskAndPartition(vdev, 'hd', bad));
  if (vdev.startsWith('sd')) return named('sd', ...diskAndPartition(vdev, 'sd', bad));
  throw bad('not xvd<letters>[partition], hd.., sd.., d<disk>p<partition> or a device number');
}

/** The devid of a vdev name: xvda = 51712. */
export function vdevToDevid(vdev: string): number {
  return parseVdev(vdev).devid;
}

/** The vdev a devid stands for: 51712 = xvda. */
export function devidVdev(devid: number): Vdev {
  const bad = (why: string) => new BlkifError('EINVAL', `device number ${devid}: ${why}`);
  if (!Number.isInteger(devid) || devid < 0 || devid > INT_MAX) throw bad('not a device number');
  if (devid & XVD_EXTENDED) {
    if (devid >= XVD_EXTENDED * 2) throw bad('bits above the extended-xvd flag (1<<28) are set');
    return named('xvd', (devid >>> 8) & XVD_MAX_DISK, devid & 0xff);
  }
  const major = devid >>> 8;
  const minor = devid & 0xff;
  switch (major) {
    case XVD_MAJOR:
      return named('xvd', minor >> 4, minor & 15);
    case SD_MAJOR:
      return named('sd', minor >> 4, minor & 15);
    case HD_MAJORS[0]:
    case HD_MAJORS[1]: {
      const unit = minor >> 6;
      if (unit > 1) throw bad(`minor ${minor} names no IDE disk on major ${major}`);
      return named('hd', (major === HD_MAJORS[0] ? 0 : 2) + unit, minor & 63);
    }
    default:
      throw bad(`major ${major} is none of xvd (202), sd (8), hd (3, 22), and the extended xvd flag (1<<28) is clear`);
  }
}

/** The name of a devid: 51712 = `xvda`. */
export function devidToVdev(devid: number): string {
  return devidVdev(devid).name;
}

/** a..z, aa..zz, ...: disk 0 = a, 25 = z, 26 = aa. */
export function diskLetters(disk: number): string {
  let s = '';
  for (let n = disk + 1; n > 0; n = Math.floor(n / 26)) {
    n--;
    s = String.fromCharCode(97 + (n % 26)) + s;
  }
  return s;
}

function named(type: VdevType, disk: number, partition: number): Vdev {
  const devid = vdevDevid(type, disk, partition);
  return { devid, type, disk, partition, name: `${type}${diskLetters(disk)}${partition === 0 ? '' : partition}` };
}

function diskAndPartition(vdev: string, type: VdevType, bad: (why: string) => BlkifError): [number, number] {
  const m = /^([a-z]*)(.*)$/.exec(vdev.slice(type.length))!;
  const [, letters, rest] = m as unknown as [string, string, string];
  if (letters === '') throw bad(`no disk letter after "${type}"`);
  const lim = LIMITS[type];
  let disk = -1;
  for (const c of letters) {
    disk = (disk + 1) * 26 + (c.charCodeAt(0) - 97);
    if (disk > lim.disks) throw bad(`${type} disks go up to ${type}${diskLetters(lim.disks)}`);
  }
  if (rest === '') return [disk, 0];
  if (rest.startsWith('0'))
    throw bad('a partition number has no leading zero (the whole disk is partition 0, written without one)');
  if (!/^[1-9][0-9]*$/.test(rest)) throw bad(`"${rest}" is not a partition number`);
  const partition = Number(rest);
  if (partition > lim.partitions) throw bad(`${type} partitions go up to ${lim.partitions}`);
  return [disk, partition];
}
