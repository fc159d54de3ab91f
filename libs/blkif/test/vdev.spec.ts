// Device numbers worked out by hand from xen-vbd-interface.7 / libxl_device.c: xvd disk<16 and part<16 is
// 202<<8 | disk<<4 | part, else 1<<28 | disk<<8 | part; sd is 8<<8 | disk<<4 | part; hd disks 0-1 are
// 3<<8 | (disk&1)<<6 | part and disks 2-3 the same on major 22.
import { BlkifError, devidToVdev, devidVdev, diskLetters, parseVdev, vdevToDevid } from '../src/index.js';

const TABLE: Array<[string, number]> = [
  ['xvda', 51712], // 202*256
  ['xvdb', 51728], // + 1<<4
  ['xvda1', 51713],
  ['xvdp', 51952], // disk 15: 51712 + 240
  ['xvdp15', 51967],
  ['xvdq', 268439552], // disk 16: 2^28 + 16*256
  ['xvda16', 268435472], // partition 16: 2^28 + 16
  ['xvdz', 268441856], // disk 25: 2^28 + 6400
  ['xvdaa', 268442112], // disk 26: 2^28 + 6656
  ['xvdaa3', 268442115],
  ['hda', 768], // 3*256
  ['hdb', 832], // + 1<<6
  ['hdc', 5632], // 22*256
  ['hdd', 5696],
  ['hda1', 769],
  ['hdd63', 5759],
  ['sda', 2048], // 8*256
  ['sdb', 2064],
  ['sdb3', 2067],
  ['sdp15', 2303],
];

describe('virtual device names', () => {
  it.each(TABLE)('%s is devid %d and back', (name, devid) => {
    expect(vdevToDevid(name)).toBe(devid);
    expect(devidToVdev(devid)).toBe(name);
  });

  it('takes d<disk>p<partition> and bare device numbers as libxl does', () => {
    expect(vdevToDevid('d0p1')).toBe(51713);
    expect(vdevToDevid('d16p0')).toBe(268439552);
    expect(vdevToDevid('51712')).toBe(51712);
    expect(vdevToDevid('0xca00')).toBe(51712);
    expect(vdevToDevid('0145000')).toBe(51712); // octal, as strtoul(…, 0)
    expect(parseVdev('51728')).toEqual({ devid: 51728, type: 'xvd', disk: 1, partition: 0, name: 'xvdb' });
    expect(parseVdev('hdc2')).toEqual({ devid: 5634, type: 'hd', disk: 2, partition: 2, name: 'hdc2' });
  });

  it('spells disk numbers as letters a..z, aa..zz, aaa..', () => {
    expect([0, 25, 26, 51, 701, 702].map(diskLetters)).toEqual(['a', 'z', 'aa', 'az', 'zz', 'aaa']);
  });

  it.each([
    ['xvda0', /no leading zero/],
    ['xvd', /no disk letter after "xvd"/],
    ['xvda1x', /"1x" is not a partition number/],
    ['xvdA', /no disk letter/],
    ['xvda256', /xvd partitions go up to 255/],
    ['hde', /hd disks go up to hdd/],
    ['hda64', /hd partitions go up to 63/],
    ['sdq', /sd disks go up to sdp/],
    ['sda16', /sd partitions go up to 15/],
    ['vda', /not xvd<letters>\[partition\], hd.., sd.., d<disk>p<partition> or a device number/],
    ['', /not xvd/],
    ['-1', /not xvd/],
    ['d0p256', /partition 256 is beyond 255/],
    ['2147483648', /device number beyond 2147483647/],
    ['1234', /major 4 is none of xvd \(202\), sd \(8\), hd \(3, 22\)/],
  ])('refuses %j with a reason', (name, why) => {
    let err: unknown;
    try {
      parseVdev(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BlkifError);
    expect((err as BlkifError).kind).toBe('EINVAL');
    expect((err as BlkifError).message).toContain(`invalid virtual device "${name}": `);
    expect((err as BlkifError).message).toMatch(why);
  });

  it('refuses device numbers that name no disk', () => {
    expect(() => devidVdev((3 << 8) | 128)).toThrow(/minor 128 names no IDE disk on major 3/);
    expect(() => devidVdev(2 ** 29 + 2 ** 28)).toThrow(/bits above the extended-xvd flag/);
    expect(() => devidVdev(-1)).toThrow(/not a device number/);
  });
});
