// Sizes and tables against OpenZFS's own output (zfs_nicebytes values and `zpool list`/`zfs list`/`zpool
// status` lines as the real tools print them), written out by hand.
import { describe, expect, it } from '@jest/globals';
import type { PoolStatus } from '@dominion/zfs';
import { elapsed, nicebytes, table } from './format.js';
import { getopt } from './getopt.js';
import { statusText } from './zpool.js';

describe('nicebytes (zfs_nicebytes)', () => {
  it.each([
    [0, '0B'],
    [512, '512B'],
    [1023, '1023B'],
    [1024, '1K'],
    [98304, '96K'],
    [1610612736, '1.50G'],
    [21390950, '20.4M'],
    [1073741824, '1G'],
    [1288490189, '1.20G'],
    [996147200000, '928G'],
    [5368709120000, '4.88T'],
  ])('%d is %s', (n, text) => {
    expect(nicebytes(n)).toBe(text);
  });
});

describe('tables', () => {
  it('lays out zpool list as the real tool does', () => {
    const cols = [
      { header: 'NAME' },
      ...['SIZE', 'ALLOC', 'FREE', 'CKPOINT', 'EXPANDSZ', 'FRAG', 'CAP', 'DEDUP'].map((h) => ({
        header: h,
        right: true,
        min: 5,
      })),
      { header: 'HEALTH', right: true, min: 8 },
      { header: 'ALTROOT' },
    ];
    expect(table(cols, [['rpool', '928G', '190G', '738G', '-', '-', '10%', '20%', '1.00x', 'ONLINE', '-']])).toBe(
      'NAME    SIZE  ALLOC   FREE  CKPOINT  EXPANDSZ   FRAG    CAP  DEDUP    HEALTH  ALTROOT\n' +
        'rpool   928G   190G   738G        -         -    10%    20%  1.00x    ONLINE  -\n',
    );
  });

  it('lays out zfs list, and -H as tabs without a header', () => {
    const cols = [
      { header: 'NAME' },
      { header: 'USED', right: true, min: 5 },
      { header: 'AVAIL', right: true, min: 5 },
      { header: 'REFER', right: true, min: 5 },
      { header: 'MOUNTPOINT' },
    ];
    const rows = [
      ['rpool', '190G', '709G', '96K', '/'],
      ['rpool/ROOT', '4.58G', '709G', '96K', 'none'],
    ];
    expect(table(cols, rows)).toBe(
      'NAME         USED  AVAIL  REFER  MOUNTPOINT\n' +
        'rpool        190G   709G    96K  /\n' +
        'rpool/ROOT  4.58G   709G    96K  none\n',
    );
    expect(table(cols, rows, true)).toBe('rpool\t190G\t709G\t96K\t/\nrpool/ROOT\t4.58G\t709G\t96K\tnone\n');
  });

  it('prints zpool status with the scan line of a finished scrub', () => {
    const leaf = (path: string) =>
      ({
        path,
        type: 'file',
        state: 'ONLINE',
        readErrors: 0,
        writeErrors: 0,
        checksumErrors: 0,
        repairedBytes: 0,
      }) as const;
    const startedAt = new Date(2026, 10, 22, 0, 24, 1).getTime();
    const s: PoolStatus = {
      name: 'tank',
      guid: '1',
      txg: 9,
      health: 'DEGRADED',
      size: 1,
      allocated: 0,
      free: 1,
      vdevs: [
        {
          path: 'mirror-0',
          type: 'mirror',
          state: 'DEGRADED',
          readErrors: 0,
          writeErrors: 0,
          checksumErrors: 0,
          repairedBytes: 0,
          children: [leaf('a.img'), { ...leaf('b.img'), state: 'UNAVAIL', checksumErrors: 3 }],
        },
      ],
      scan: {
        state: 'finished',
        startedAt,
        endedAt: startedAt + 1000,
        examinedBytes: 10,
        totalBytes: 10,
        blocks: 1,
        errors: 3,
        repairedBytes: 12288,
        unrecoverable: 0,
      },
      dataErrors: 0,
    };
    expect(statusText(s)).toBe(
      [
        '  pool: tank',
        ' state: DEGRADED',
        '  scan: scrub repaired 12K in 00:00:01 with 0 errors on Sun Nov 22 00:24:02 2026',
        'config:',
        '',
        '\tNAME        STATE     READ WRITE CKSUM',
        '\ttank        DEGRADED     0     0     0',
        '\t  mirror-0  DEGRADED     0     0     0',
        '\t    a.img   ONLINE       0     0     0',
        '\t    b.img   UNAVAIL      0     0     3',
        '',
        'errors: No known data errors',
        '',
      ].join('\n'),
    );
  });

  it('prints elapsed times as zpool status does', () => {
    expect(elapsed(61_000)).toBe('00:01:01');
    expect(elapsed(90_061_000)).toBe('1 days 01:01:01');
  });
});

describe('getopt', () => {
  it('takes clustered flags, attached and separate arguments, and stops at --', () => {
    const p = getopt(['-Hp', '-oname,used', '-t', 'volume', '--', '-x'], 'Hpo:t:');
    expect([...p.flags]).toEqual(['H', 'p']);
    expect(p.values).toEqual([
      ['o', 'name,used'],
      ['t', 'volume'],
    ]);
    expect(p.args).toEqual(['-x']);
    expect(() => getopt(['-z'], 'H')).toThrow("invalid option 'z'");
    expect(() => getopt(['-o'], 'o:')).toThrow("missing argument for 'o' option");
  });
});
