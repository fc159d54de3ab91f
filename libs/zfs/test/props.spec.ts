// Properties with zfs get/set/inherit semantics, and the space limits they set: quota and refquota
// (EDQUOT), reservation and refreservation (ENOSPC for everyone else).
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, ZfsError } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

async function newPool(size = 32 * MiB): Promise<Pool> {
  return Pool.create(new CrashSimFileIO(), { name: 'tank', vdevs: [{ path: '/v0', size }] });
}

const errorOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('properties', () => {
  it('inherit down the tree with their source, as zfs get reports it', async () => {
    const pool = await newPool();
    await pool.createFilesystem('tank/a');
    await pool.createFilesystem('tank/a/b');
    expect(pool.getProperty('tank/a/b', 'compression')).toEqual({
      property: 'compression',
      value: 'off',
      source: 'default',
    });
    await pool.setProperty('tank/a', 'compression', 'lz4');
    expect(pool.getProperty('tank/a', 'compression')).toMatchObject({ value: 'lz4', source: 'local' });
    expect(pool.getProperty('tank/a/b', 'compression')).toMatchObject({
      value: 'lz4',
      source: 'inherited from tank/a',
    });
    await pool.setProperty('tank/a/b', 'compression', 'off');
    expect(pool.getProperty('tank/a/b', 'compression')).toMatchObject({ value: 'off', source: 'local' });
    await pool.inheritProperty('tank/a/b', 'compression');
    expect(pool.getProperty('tank/a/b', 'compression').source).toBe('inherited from tank/a');
    // Quotas do not inherit.
    await pool.setProperty('tank/a', 'quota', '10M');
    expect(pool.getProperty('tank/a', 'quota')).toMatchObject({ value: String(10 * MiB), source: 'local' });
    expect(pool.getProperty('tank/a/b', 'quota')).toMatchObject({ value: 'none', source: 'default' });
    // Statistics have source '-'.
    expect(pool.getProperty('tank/a', 'type')).toEqual({ property: 'type', value: 'filesystem', source: '-' });
    expect(pool.getProperty('tank/a', 'used').source).toBe('-');
    expect(pool.getProperties('tank/a/b').map((p) => p.property)).toEqual(
      expect.arrayContaining(['used', 'available', 'referenced', 'compressratio', 'checksum', 'quota']),
    );
  });

  it('survive export and import, and apply to new blocks of datasets that inherit them', async () => {
    const io = new CrashSimFileIO();
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: '/v0', size: 32 * MiB }] });
    await pool.createFilesystem('tank/a', { props: { compression: 'lz4', checksum: 'blake3' } });
    const vol = await pool.createVolume('tank/a/v', { volsize: MiB, volblocksize: 64 * KiB, sparse: true });
    await vol.write(0, Buffer.alloc(64 * KiB, 'a'));
    await pool.sync();
    const block = (await pool.blockMap()).find((e) => e.owner === 'tank/a/v' && e.type === 'data')!;
    expect(block).toMatchObject({ compression: 'lz4', checksumAlgo: 'blake3' });
    await pool.export();
    const again = await Pool.import(io, { paths: ['/v0'] });
    expect(again.getProperty('tank/a/v', 'checksum')).toMatchObject({
      value: 'blake3',
      source: 'inherited from tank/a',
    });
    expect((await again.openVolume('tank/a/v').read(0, 10)).toString()).toBe('aaaaaaaaaa');
    await again.close();
  });

  it('refuses invalid properties and values, and changes to snapshots', async () => {
    const pool = await newPool();
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    await pool.snapshot('tank/v@s');
    expect(await errorOf(pool.setProperty('tank/v', 'colour', 'blue'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(pool.setProperty('tank/v', 'compression', 'gzip-42'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(pool.setProperty('tank/v', 'quota', '1G'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(pool.setProperty('tank/v@s', 'checksum', 'sha256'))).toMatchObject({ kind: 'EINVAL' });
    expect(await errorOf(pool.setProperty('tank/nope', 'checksum', 'sha256'))).toMatchObject({ kind: 'ENOENT' });
    expect(() => pool.getProperty('tank/v', 'colour')).toThrow(ZfsError);
    await pool.setProperty('tank/v', 'checksum', 'sha256');
    expect(pool.getProperty('tank/v', 'checksum').value).toBe('sha256');
    expect(pool.getProperty('tank/v@s', 'type').value).toBe('snapshot');
    expect(vol.volsize).toBe(MiB);
  });
});

describe('quotas and reservations', () => {
  it('stops writes at a quota with EDQUOT (as ENOSPC), counting descendants; a sibling goes on', async () => {
    const pool = await newPool();
    await pool.createFilesystem('tank/q', { props: { quota: '2M' } });
    await pool.createFilesystem('tank/q/child');
    await pool.createFilesystem('tank/free');
    const child = pool.openFilesystem('tank/q/child');
    await child.create('/f');
    let written = 0;
    let error: unknown;
    try {
      for (; written < 8 * MiB; written += 64 * KiB) await child.writeFile('/f', written, pattern(written, 64 * KiB));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      kind: 'ENOSPC',
      errno: 'EDQUOT',
      message: expect.stringMatching(/quota of tank\/q/),
    });
    expect(written).toBeGreaterThan(MiB);
    await pool.sync();
    expect(pool.get('tank/q').used).toBeLessThanOrEqual(2 * MiB);
    expect(pool.get('tank/q').available).toBeLessThan(MiB);
    // The sibling has no quota.
    const free = pool.openFilesystem('tank/free');
    await free.create('/f');
    await free.writeFile('/f', 0, pattern(1, 3 * MiB));
    await pool.sync();
    // Raising the quota lets the writer go on; lowering it below use is refused.
    expect(await errorOf(pool.setProperty('tank/q', 'quota', '1M'))).toMatchObject({ kind: 'ENOSPC' });
    await pool.setProperty('tank/q', 'quota', '4M');
    await child.writeFile('/f', written, pattern(9, 64 * KiB));
  });

  it('refquota limits what the dataset itself references', async () => {
    const pool = await newPool();
    const fs = await pool.createFilesystem('tank/r', { props: { refquota: '1M' } });
    await fs.create('/f');
    await expect(fs.writeFile('/f', 0, pattern(1, 2 * MiB))).rejects.toMatchObject({ errno: 'EDQUOT' });
    await fs.writeFile('/f', 0, pattern(1, 256 * KiB));
  });

  it('holds a reservation back from everyone else', async () => {
    const pool = await newPool(16 * MiB);
    const before = pool.get('tank').available;
    await pool.createFilesystem('tank/a', { props: { reservation: '10M' } });
    const b = await pool.createFilesystem('tank/b');
    expect(pool.get('tank/b').available).toBeLessThan(before - 10 * MiB + 64 * KiB);
    expect(pool.get('tank/a').available).toBeGreaterThan(10 * MiB);
    expect(pool.get('tank').used).toBeGreaterThanOrEqual(10 * MiB); // the parent is charged the reservation
    await b.create('/f');
    await expect(b.writeFile('/f', 0, pattern(1, 6 * MiB))).rejects.toMatchObject({ kind: 'ENOSPC' });
    const a = pool.openFilesystem('tank/a');
    await a.create('/f');
    await a.writeFile('/f', 0, pattern(1, 6 * MiB));
    await pool.sync();
    expect(await errorOf(pool.setProperty('tank/b', 'reservation', '64M'))).toMatchObject({
      kind: 'ENOSPC',
      message: expect.stringMatching(/greater than available space/),
    });
    await pool.setProperty('tank/b', 'reservation', '256K');
  });

  it('gives a volume created without -s a refreservation of its size', async () => {
    const pool = await newPool(16 * MiB);
    expect(await errorOf(pool.createVolume('tank/huge', { volsize: 64 * MiB }))).toMatchObject({ kind: 'ENOSPC' });
    await pool.createVolume('tank/sparse', { volsize: 64 * MiB, sparse: true });
    const thick = await pool.createVolume('tank/thick', { volsize: 8 * MiB });
    expect(pool.getProperty('tank/thick', 'refreservation')).toMatchObject({ value: String(8 * MiB), source: 'local' });
    expect(pool.getProperty('tank/sparse', 'refreservation')).toMatchObject({ value: 'none', source: 'default' });
    const info = pool.get('tank/thick');
    expect(info.usedbyrefreservation).toBe(8 * MiB - info.referenced);
    expect(info.used).toBe(8 * MiB);
    // The sparse volume cannot eat into the thick one's reservation; the thick one can fill itself.
    const sparse = pool.openVolume('tank/sparse');
    await expect(sparse.write(0, pattern(2, 8 * MiB))).rejects.toMatchObject({ kind: 'ENOSPC' });
    await thick.write(0, pattern(3, 6 * MiB));
    await pool.sync();
    expect(pool.get('tank/thick').used).toBe(8 * MiB);
  });
});
