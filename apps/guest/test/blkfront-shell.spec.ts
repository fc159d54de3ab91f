// The shell's block commands against in-memory disks: lsblk's columns, dd's operands and closing lines,
// sha256sum's ranges, and the number formats behind them (expected strings are what util-linux's lsblk,
// GNU dd and sha256sum print for the same sizes).
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  dd,
  ddTransferLine,
  formatG,
  humanSize,
  lsblk,
  lsblkSize,
  parseDdNumber,
  sha256sum,
  BlkfrontError,
  type BlockDevice,
  type BlockDevices,
} from '../src/blkfront/index.js';
import { createMinios, MINIOS_PROMPT } from '../src/minios.js';
import type { GuestApi } from '../src/kernel.js';

/** A disk in memory with blkfront's checks: whole sectors, inside the disk, writes refused if read-only. */
class MemDisk implements BlockDevice {
  readonly data: Uint8Array;
  readonly sectorSize = 512;
  readonly removable = false;
  flushes = 0;
  failReadsAt: number | undefined;
  constructor(
    readonly name: string,
    readonly devid: number,
    readonly major: number,
    readonly minor: number,
    bytes: number,
    readonly readOnly = false,
    readonly cdrom = false,
  ) {
    this.data = new Uint8Array(bytes);
  }
  get sectors(): number {
    return this.data.length / 512;
  }
  private check(sector: number, count: number): void {
    if (sector + count > this.sectors) throw new BlkfrontError('ENOSPC', `${this.name}: past the end`);
  }
  async read(sector: number, count: number): Promise<Uint8Array> {
    this.check(sector, count);
    if (this.failReadsAt !== undefined && sector + count > this.failReadsAt)
      throw new BlkfrontError('EIO', `${this.name}: BLKIF_RSP_ERROR`);
    return this.data.slice(sector * 512, (sector + count) * 512);
  }
  async write(sector: number, data: Uint8Array): Promise<void> {
    this.check(sector, data.length / 512);
    if (this.readOnly) throw new BlkfrontError('EIO', `${this.name}: BLKIF_RSP_ERROR`);
    this.data.set(data, sector * 512);
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
  async discard(): Promise<void> {}
}

function devices(...disks: MemDisk[]): BlockDevices {
  return {
    list: () => disks,
    get: (n) => disks.find((d) => d.name === (n.startsWith('/dev/') ? n.slice(5) : n)),
  };
}

async function run(f: (out: (l: string) => void) => Promise<void> | void): Promise<string[]> {
  const lines: string[] = [];
  await f((l) => lines.push(l));
  return lines;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('number formats', () => {
  it("lsblk's SIZE as util-linux prints it", () => {
    expect(
      [512, 1024, 1 << 20, 64 << 20, 1 << 30, 1.5 * 2 ** 30, 8 * 2 ** 30, 500107862016, 2 ** 40, 1536, 1075].map(
        lsblkSize,
      ),
    ).toEqual(['512B', '1K', '1M', '64M', '1G', '1.5G', '8G', '465.8G', '1T', '1.5K', '1K']);
  });

  it("dd's sizes, seconds and closing line as GNU dd prints them", () => {
    expect(humanSize(2097152, 1000)).toBe('2.1 MB');
    expect(humanSize(2097152, 1024)).toBe('2.0 MiB');
    expect(humanSize(131072, 1000)).toBe('131 kB');
    expect(humanSize(512, 1000)).toBe('512 B');
    expect(humanSize(1000, 1024)).toBe('1000 B');
    expect(humanSize(1023999, 1000)).toBe('1.0 MB');
    expect([0.0123, 1, 2.5e-5, 0.000123456789, 12.3456789].map(formatG)).toEqual([
      '0.0123',
      '1',
      '2.5e-05',
      '0.000123457',
      '12.3457',
    ]);
    expect(ddTransferLine(2097152, 0.0123)).toBe('2097152 bytes (2.1 MB, 2.0 MiB) copied, 0.0123 s, 171 MB/s');
    expect(ddTransferLine(512, 0.5)).toBe('512 bytes copied, 0.5 s, 1.0 kB/s');
    expect(ddTransferLine(1000, 1)).toBe('1000 bytes (1.0 kB) copied, 1 s, 1.0 kB/s');
    expect(ddTransferLine(0, 0.001)).toBe('0 bytes copied, 0.001 s, 0 B/s');
  });

  it("dd's number operands with their suffixes, and what is not one", () => {
    expect(['512', '4K', '1M', '1MiB', '2b', '3w', '1kB', '1MB', '1G', '7c'].map(parseDdNumber)).toEqual([
      512,
      4096,
      1 << 20,
      1 << 20,
      1024,
      6,
      1000,
      1000000,
      1 << 30,
      7,
    ]);
    expect(['', '1X', '-1', '1.5M', 'M'].map(parseDdNumber)).toEqual(Array(5).fill(undefined));
  });
});

describe('lsblk', () => {
  it('prints the default columns, lined up as util-linux does', async () => {
    const block = devices(
      new MemDisk('xvda', 51712, 202, 0, 1 << 30),
      new MemDisk('xvdb', 51728, 202, 16, 64 << 20, true),
      new MemDisk('xvdc', 51744, 202, 32, 1536 << 20, true, true),
    );
    expect(await run((o) => lsblk(block, o))).toEqual([
      'NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS',
      'xvda 202:0    0   1G  0 disk',
      'xvdb 202:16   0  64M  1 disk',
      'xvdc 202:32   1 1.5G  1 rom',
    ]);
    expect(await run((o) => lsblk(devices(), o))).toEqual(['NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS']);
  });
});

describe('dd', () => {
  it('copies /dev/urandom to a disk with seek, and the disk back with skip, with GNU dd’s three lines', async () => {
    const a = new MemDisk('xvda', 51712, 202, 0, 1 << 20);
    const b = new MemDisk('xvdb', 51728, 202, 16, 1 << 20);
    const block = devices(a, b);
    const out = await run((o) =>
      dd(block, o, ['if=/dev/urandom', 'of=/dev/xvda', 'bs=4K', 'count=3', 'seek=2', 'conv=fsync']),
    );
    expect(out.slice(0, 2)).toEqual(['3+0 records in', '3+0 records out']);
    expect(out[2]).toMatch(/^12288 bytes \(12 kB, 12 KiB\) copied, [0-9.e-]+ s, [0-9.]+ [kMG]?B\/s$/);
    expect(a.flushes).toBe(1);
    expect(a.data.subarray(0, 8192).every((x) => x === 0)).toBe(true);
    expect(a.data.subarray(8192, 20480).some((x) => x !== 0)).toBe(true);

    const back = await run((o) => dd(block, o, ['if=/dev/xvda', 'of=/dev/xvdb', 'bs=8K', 'skip=1', 'count=1']));
    expect(back.slice(0, 2)).toEqual(['1+0 records in', '1+0 records out']);
    expect(sha(b.data.subarray(0, 8192))).toBe(sha(a.data.subarray(8192, 16384)));
    expect(b.flushes).toBe(0);
  });

  it('counts a partial record at the end of the input and stops at the end of the output with ENOSPC', async () => {
    const small = new MemDisk('xvda', 51712, 202, 0, 10 * 512);
    const big = new MemDisk('xvdb', 51728, 202, 16, 1 << 20);
    const block = devices(small, big);
    const tail = await run((o) => dd(block, o, ['if=/dev/xvda', 'of=/dev/null', 'bs=4K']));
    expect(tail.slice(0, 2)).toEqual(['1+1 records in', '1+1 records out']);
    expect(tail[2]).toMatch(/^5120 bytes \(5\.1 kB, 5\.0 KiB\) copied, /);
    const full = await run((o) => dd(block, o, ['if=/dev/zero', 'of=/dev/xvda', 'bs=4K']));
    expect(full.slice(0, 3)).toEqual([
      "dd: error writing '/dev/xvda': No space left on device",
      '2+0 records in',
      '1+1 records out',
    ]);
    expect(full[3]).toMatch(/^5120 bytes \(5\.1 kB, 5\.0 KiB\) copied, /);
  });

  it('reports unaligned byte ranges correctly (read-modify-write of partial sectors)', async () => {
    const a = new MemDisk('xvda', 51712, 202, 0, 1 << 16);
    a.data.fill(0xaa);
    await run((o) => dd(devices(a), o, ['if=/dev/zero', 'of=/dev/xvda', 'bs=100', 'seek=3', 'count=2']));
    expect(a.data.subarray(0, 300).every((x) => x === 0xaa)).toBe(true);
    expect(a.data.subarray(300, 500).every((x) => x === 0)).toBe(true);
    expect(a.data.subarray(500, 1024).every((x) => x === 0xaa)).toBe(true);
  });

  it('refuses bad operands and missing devices as GNU dd words it; a read error stops the copy', async () => {
    const a = new MemDisk('xvda', 51712, 202, 0, 1 << 16);
    const block = devices(a);
    expect(await run((o) => dd(block, o, ['if=/dev/zero', 'of=/dev/xvda', 'bs=1X']))).toEqual([
      "dd: invalid number: '1X'",
      "Try 'dd --help' for more information.",
    ]);
    expect(await run((o) => dd(block, o, ['if=/dev/zero', 'of=/dev/xvda', 'oflag=direct']))).toEqual([
      "dd: unrecognized operand 'oflag=direct'",
      "Try 'dd --help' for more information.",
    ]);
    expect(await run((o) => dd(block, o, ['if=/dev/xvdz', 'of=/dev/null']))).toEqual([
      "dd: failed to open '/dev/xvdz': No such file or directory",
    ]);
    a.failReadsAt = 16;
    const out = await run((o) => dd(block, o, ['if=/dev/xvda', 'of=/dev/null', 'bs=4K']));
    expect(out.slice(0, 3)).toEqual([
      "dd: error reading '/dev/xvda': Input/output error",
      '2+0 records in',
      '2+0 records out',
    ]);
  });
});

describe('sha256sum', () => {
  it('hashes the whole disk, LENGTH bytes, or OFFSET+LENGTH, as GNU sha256sum prints it', async () => {
    const a = new MemDisk('xvda', 51712, 202, 0, 3 << 20);
    for (let i = 0; i < a.data.length; i++) a.data[i] = (i * 7 + (i >> 12)) & 0xff;
    const block = devices(a);
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda']))).toEqual([`${sha(a.data)}  /dev/xvda`]);
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda', '1M']))).toEqual([
      `${sha(a.data.subarray(0, 1 << 20))}  /dev/xvda`,
    ]);
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda', '100+1000']))).toEqual([
      `${sha(a.data.subarray(100, 1100))}  /dev/xvda`,
    ]);
    // The well-known digest of nothing.
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda', '0']))).toEqual([
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  /dev/xvda',
    ]);
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda', '3M+1']))).toEqual([
      'sha256sum: /dev/xvda: range 3145728+1 is past the end of the device (3145728 bytes)',
    ]);
    expect(await run((o) => sha256sum(block, o, ['/dev/xvda', '1-2']))).toEqual([
      "sha256sum: 1-2: not a range (LENGTH or OFFSET+LENGTH, with dd's suffixes)",
    ]);
    expect(await run((o) => sha256sum(block, o, ['/dev/sdz']))).toEqual([
      'sha256sum: /dev/sdz: No such file or directory',
    ]);
  });
});

describe('the minios shell', () => {
  it('runs lsblk and dd on the console from the kernel interface’s block devices', async () => {
    let text = '';
    const api = {
      domid: 7,
      console: { write: (t: string) => void (text += t) },
      block: devices(new MemDisk('xvda', 51712, 202, 0, 1 << 20)),
    } as unknown as GuestApi;
    const k = createMinios();
    await k.start(api);
    text = '';
    await k.input('lsblk');
    expect(text).toBe(
      `lsblk\nNAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nxvda 202:0    0   1M  0 disk\n${MINIOS_PROMPT}`,
    );
    text = '';
    await k.input('dd if=/dev/zero of=/dev/xvda bs=1K count=1');
    expect(text).toMatch(
      /^dd if=\/dev\/zero of=\/dev\/xvda bs=1K count=1\n1\+0 records in\n1\+0 records out\n1024 bytes \(1\.0 kB, 1\.0 KiB\) copied, /,
    );
  });
});
