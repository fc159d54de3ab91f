// Virtual device numbers. `libxl` is what libxl__device_disk_dev_number (Xen 4.17's libxenlight,
// test/golden/README.md) returned for each name; -1 means libxl refuses it.
import { devidToVdev, diskLetters, vdevToDevice } from '../src/index.js';

const LIBXL: Array<[vdev: string, devid: number, disk?: number, partition?: number]> = [
  ['xvda', 51712, 0, 0],
  ['xvdb', 51728, 1, 0],
  ['xvdp15', 51967, 15, 15],
  ['xvdq', 268439552, 16, 0],
  ['xvdz', 268441856, 25, 0],
  ['xvdaa', 268442112, 26, 0],
  ['xvdba', 268448768, 52, 0],
  ['xvdzz', 268614912, 701, 0],
  ['xvdaaa', 268615168, 702, 0],
  ['xvda16', 268435472, 0, 16],
  ['xvda255', 268435711, 0, 255],
  ['xvdbgqcv', 536870656, 1048575, 0],
  ['xvdbgqcv255', 536870911, 1048575, 255],
  ['d0p1', 51713, 0, 1],
  ['d15p15', 51967, 15, 15],
  ['d16p0', 268439552, 16, 0],
  ['d0p16', 268435472, 0, 16],
  ['d0x1p010', 51736, 1, 8],
  ['d1048575p255', 536870911, 1048575, 255],
  ['hda', 768, 0, 0],
  ['hdb', 832, 1, 0],
  ['hdc', 5632, 2, 0],
  ['hdc1', 5633, 2, 1],
  ['hdd', 5696, 3, 0],
  ['hdd63', 5759, 3, 63],
  ['sda', 2048, 0, 0],
  ['sdb3', 2067, 1, 3],
  ['sdp', 2288, 15, 0],
  ['sdp15', 2303, 15, 15],
  // a bare number is the device number itself
  ['51712', 51712],
  ['0x10', 16],
  ['017', 15],
  ['0', 0],
  ['2147483647', 2147483647],
];

const REFUSED = [
  'sdq',
  'hde',
  'hda64',
  'sda16',
  'xvda256',
  'xvdbgqcw',
  'xvda01',
  'xvdA',
  'd1048576p0',
  'd0p256',
  '2147483648',
  '',
];

describe('vdev to device number (xen-vbd-interface(7))', () => {
  for (const [vdev, devid, disk, partition] of LIBXL) {
    it(`${vdev} = ${devid}`, () => {
      const d = vdevToDevice(vdev)!;
      expect(d.devid).toBe(devid);
      expect(d.disk).toBe(disk);
      expect(d.partition).toBe(partition);
    });
  }

  it.each(REFUSED)('refuses %j as libxl does', (vdev) => expect(vdevToDevice(vdev)).toBeUndefined());

  it('refuses what libxl takes only through C-library leniency', () => {
    // libxl: `xvd` is disk -1 (-16), `xvda 1` and `xvda+1` are partition 1, `d-1p0` is -16
    for (const vdev of ['xvd', 'xvd1', 'xvda 1', 'xvda+1', 'd-1p0', ' 5', '-0'])
      expect(vdevToDevice(vdev)).toBeUndefined();
  });
});

describe('device number to name (libxl__devid_to_vdev)', () => {
  it('names xvd devices as Linux does', () => {
    expect(
      [51712, 51713, 51728, 51967, 268439552, 268439553, 268442112, 268435472, 536870911].map(devidToVdev),
    ).toEqual(['xvda', 'xvda1', 'xvdb', 'xvdp15', 'xvdq', 'xvdq1', 'xvdaa', 'xvda16', 'xvdbgqcv255']);
  });

  it('round-trips every xvd name of the table', () => {
    for (const [vdev, devid] of LIBXL) if (vdev.startsWith('xvd')) expect(devidToVdev(devid)).toBe(vdev);
  });

  it('counts disk letters a..z, aa..zz, aaa…', () => {
    expect([0, 25, 26, 51, 52, 701, 702, 1048575].map(diskLetters)).toEqual([
      'a',
      'z',
      'aa',
      'az',
      'ba',
      'zz',
      'aaa',
      'bgqcv',
    ]);
  });
});
