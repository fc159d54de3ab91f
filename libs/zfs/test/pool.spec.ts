// Pool and dataset administration: what is accepted, what is refused and how.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const create = (io: CrashSimFileIO, name = 'tank', size = 8 * MiB): Promise<Pool> =>
  Pool.create(io, { name, vdevs: [{ path: '/vdev0', size }] });

describe('pool administration', () => {
  it('validates pool creation', async () => {
    const io = new CrashSimFileIO();
    await expect(create(io, '1tank')).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining("'1tank'"),
    });
    await expect(create(io, 'mirror0')).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(create(io, 'tank', MiB)).rejects.toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('/vdev0'),
    });
    await expect(Pool.create(io, { name: 'tank', vdevs: [] })).rejects.toMatchObject({ kind: 'EINVAL' });
    const pool = await create(io);
    expect(pool.status()).toMatchObject({
      name: 'tank',
      health: 'ONLINE',
      txg: 1,
      vdevs: [{ path: '/vdev0', checksumErrors: 0 }],
    });
    expect(pool.list()).toEqual([expect.objectContaining({ name: 'tank', type: 'filesystem' })]);
  });

  it('validates volume creation', async () => {
    const pool = await create(new CrashSimFileIO());
    const bad = async (name: string, volsize: number, extra: object = {}): Promise<unknown> =>
      pool.createVolume(name, { volsize, ...extra }).catch((e: unknown) => e);
    expect(await bad('tank/v', 1000)).toMatchObject({ kind: 'EINVAL', message: expect.stringContaining('volsize') });
    expect(await bad('tank/v', MiB, { volblocksize: 3000 })).toMatchObject({ kind: 'EINVAL' });
    expect(await bad('tank/v', MiB, { volblocksize: 256 * KiB })).toMatchObject({ kind: 'EINVAL' });
    expect(await bad('tank/v', MiB, { checksum: 'md5' })).toMatchObject({ kind: 'EINVAL' });
    expect(await bad('tank/v', MiB, { compression: 'zstd' })).toMatchObject({ kind: 'EOPNOTSUPP' });
    expect(await bad('tank/a/b', MiB)).toMatchObject({
      kind: 'ENOENT',
      message: expect.stringContaining('parent does not exist'),
    });
    expect(await bad('other/v', MiB)).toMatchObject({ kind: 'ENOENT' });
    expect(await bad('tank/v@s', MiB)).toMatchObject({ kind: 'EINVAL' });
    const vol = await pool.createVolume('tank/v', { volsize: MiB, volblocksize: 8 * KiB, checksum: 'sha256' });
    expect(vol).toMatchObject({ name: 'tank/v', volsize: MiB, volblocksize: 8 * KiB, readOnly: false });
    expect(await bad('tank/v', MiB)).toMatchObject({
      kind: 'EEXIST',
      message: expect.stringContaining('dataset already exists'),
    });
    expect(await bad('tank/v/child', MiB)).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('parent is a volume'),
    });
    expect(pool.get('tank/v')).toMatchObject({
      type: 'volume',
      volsize: MiB,
      volblocksize: 8 * KiB,
      checksum: 'sha256',
    });
    expect(() => pool.openVolume('tank/w')).toThrow(expect.objectContaining({ kind: 'ENOENT' }));
    expect(() => pool.openVolume('tank')).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });

  it('is unusable once exported, and usable again once imported', async () => {
    const io = new CrashSimFileIO();
    const pool = await create(io);
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    await vol.write(0, pattern(1, 1000));
    await pool.export();
    await expect(vol.read(0, 1000)).rejects.toMatchObject({ kind: 'ENXIO' });
    expect(() => pool.list()).toThrow(expect.objectContaining({ kind: 'ENXIO' }));
    const again = await Pool.import(io, { paths: ['/vdev0'] });
    expect((await again.openVolume('tank/v').read(0, 1000)).equals(pattern(1, 1000))).toBe(true);
  });

  it('spreads blocks over several vdevs and needs all of them to import', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, {
      name: 'tank',
      vdevs: [
        { path: '/a', size: 8 * MiB },
        { path: '/b', size: 8 * MiB },
      ],
    });
    const vol = await pool.createVolume('tank/v', { volsize: 2 * MiB, volblocksize: 4 * KiB });
    await vol.write(0, pattern(2, 2 * MiB));
    await pool.export();
    await expect(Pool.import(io, { paths: ['/a'] })).rejects.toMatchObject({
      kind: 'ENXIO',
      message: expect.stringContaining('/b'),
    });
    const again = await Pool.import(io, { paths: ['/b', '/a'] });
    const used = new Set((await again.blockMap()).map((e) => e.vdev));
    expect(used).toEqual(new Set([0, 1]));
    expect((await again.openVolume('tank/v').read(0, 2 * MiB)).equals(pattern(2, 2 * MiB))).toBe(true);
    expect((await again.verify()).problems).toEqual([]);
  });
});
