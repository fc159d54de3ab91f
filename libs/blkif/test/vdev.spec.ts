// Device numbers worked out by hand from xen-vbd-interface.7 / libxl_device.c: xvd disk<16 and part<16 is
// 202<<8 | disk<<4 | part, else 1<<28 | disk<<8 | part; sd is 8<<8 | disk<<4 | part; hd disks 0-1 are
// 3<<8 | (disk&1)<<6 | part and disks 2-3 the same on major 22. What is accepted follows Xen 4.17's
// libxl__device_disk_dev_number (the table libs/xlcfg/test/vdev.spec.ts was checked against).
import {
  BlkifError,
  devidToVdev,
  devidVdev,
  diskLetters,
  parseCLiteral,
  parseVdev,
  vdevDevid,
  vdevToDevice,
  vdevToDevid,
} from '../src/index.js';

const XVD_EXTENDED_A1 = 2 ** 28 + 1;

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
    expect(devidVdev(devid).name).toBe(name);
  });

  it('takes d<disk>p<partition> with C literals, as sscanf("d%ip%i") reads them', () => {
    expect(vdevToDevid('d0p1')).toBe(51713);
    expect(vdevToDevid('d16p0')).toBe(268439552);
    // disk 0x1 = 1, partition 010 = 8: 202<<8 | 1<<4 | 8
    expect(parseVdev('d0x1p010')).toEqual({ devid: 51736, kind: 'xvd', disk: 1, partition: 8, name: 'xvdb8' });
    expect(parseVdev('hdc2')).toEqual({ devid: 5634, kind: 'hd', disk: 2, partition: 2, name: 'hdc2' });
  });

  it('takes a bare number as the device number itself, as strtoul(…, 0) reads it, without decoding it', () => {
    expect(vdevToDevid('51712')).toBe(51712);
    expect(vdevToDevid('0xca00')).toBe(51712);
    expect(vdevToDevid('0145000')).toBe(51712); // octal
    expect(parseVdev('51728')).toEqual({ devid: 51728, kind: 'number' });
    // no xvd, sd or hd disk has major 4, yet libxl takes it: it is still a device number
    expect(parseVdev('1234')).toEqual({ devid: 1234, kind: 'number' });
    expect(parseVdev('2147483647')).toEqual({ devid: 2147483647, kind: 'number' });
    expect(() => devidVdev(1234)).toThrow(/major 4 is none of xvd \(202\), sd \(8\), hd \(3, 22\)/);
  });

  it('answers undefined where libxl refuses, beside what it takes', () => {
    expect(vdevToDevice('xvda')).toEqual({ devid: 51712, kind: 'xvd', disk: 0, partition: 0, name: 'xvda' });
    expect(vdevToDevice('xvda0')).toBeUndefined();
    expect(vdevToDevice('0')).toEqual({ devid: 0, kind: 'number' });
    expect(vdevToDevice('-0')).toBeUndefined();
  });

  it('spells disk numbers as letters a..z, aa..zz, aaa..', () => {
    expect([0, 25, 26, 51, 701, 702].map(diskLetters)).toEqual(['a', 'z', 'aa', 'az', 'zz', 'aaa']);
    expect(() => diskLetters(-1)).toThrow(/disk -1 is not a disk index/);
  });

  it('names every device number xvd…, reading only its minor, as libxl__devid_to_vdev does', () => {
    expect(devidToVdev(51713)).toBe('xvda1');
    expect(devidToVdev(268439552)).toBe('xvdq');
    expect(devidToVdev(268435472)).toBe('xvda16');
    expect(devidToVdev(2067)).toBe('xvdb3'); // sdb3: minor 19
    expect(devidToVdev(5633)).toBe('xvda1'); // hdc1: minor 1
    expect(devidVdev(2067).name).toBe('sdb3');
    expect(() => devidToVdev(-1)).toThrow(/device number -1: not a device number \(0\.\.2147483647\)/);
  });

  it('decodes the extended form of a small disk as that disk, keeping its number', () => {
    expect(devidVdev(XVD_EXTENDED_A1)).toEqual({
      devid: XVD_EXTENDED_A1,
      kind: 'xvd',
      disk: 0,
      partition: 1,
      name: 'xvda1',
    });
    expect(vdevDevid('xvd', 0, 1)).toBe(51713);
  });

  it('reads C integer literals whole, as strtoul(…, 0) with nothing left over', () => {
    expect(['0x1f', '017', '17', '0', '-0x10'].map(parseCLiteral)).toEqual([31n, 15n, 17n, 0n, -16n]);
    for (const text of ['08', '0x', ' 1', '1 ', '1e3', '']) expect(parseCLiteral(text)).toBeUndefined();
  });

  it.each([
    ['xvda0', /no leading zero/],
    ['xvd', /no disk letter after "xvd"/],
    ['xvd1', /no disk letter after "xvd"/], // libxl: disk -1, partition 1
    ['xvda 1', /" 1" is not a partition number/],
    ['xvda1x', /"1x" is not a partition number/],
    ['xvdA', /no disk letter/],
    ['xvda256', /xvd partitions go up to 255/],
    ['hde', /hd disks go up to hdd/],
    ['hda64', /hd partitions go up to 63/],
    ['sdq', /sd disks go up to sdp/],
    ['sda16', /sd partitions go up to 15/],
    ['vda', /not xvd<letters>\[partition\], hd.., sd.., d<disk>p<partition> or a device number/],
    ['', /not xvd/],
    ['-1', /a device number is written without a sign/],
    ['+5', /a device number is written without a sign/],
    ['08', /a device number is a C integer literal/],
    ['d0p256', /partition 256 is beyond 255/],
    ['d1048576p0', /disk 1048576 is beyond 1048575/],
    ['d08p0', /disk "08" is not a C integer literal/],
    ['xvdbgqcw', /xvd disks go up to xvdbgqcv/],
    ['2147483648', /device number beyond 2147483647/],
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
    expect(devidVdev((3 << 8) | 64).name).toBe('hdb');
  });
});
