// Clones of snapshots (O(1), sharing blocks until written), the dependency that keeps their origin
// snapshot, promote (the clone takes over the origin's history), and destroying datasets.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const BS = 16 * KiB;
const errorOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function newPool(): Promise<{ io: CrashSimFileIO; pool: Pool }> {
  const io = new CrashSimFileIO();
  return { io, pool: await Pool.create(io, { name: 'tank', vdevs: [{ path: '/v0', size: 32 * MiB }] }) };
}

async function clean(pool: Pool): Promise<void> {
  const report = await pool.verify();
  expect(report.problems).toEqual([]);
}

describe('clones', () => {
  it('share the snapshot, diverge on write, and keep the snapshot from being destroyed', async () => {
    const { io, pool } = await newPool();
    const vol = await pool.createVolume('tank/gold', { volsize: MiB, volblocksize: BS, sparse: true });
    const A = pattern(1, 32 * BS);
    await vol.write(0, A);
    await pool.snapshot('tank/gold@base');
    const allocated = pool.status().allocated;
    await pool.clone('tank/gold@base', 'tank/vm1');
    expect(pool.status().allocated - allocated).toBeLessThan(64 * KiB); // O(1): no data copied
    expect(pool.get('tank/vm1')).toMatchObject({
      origin: 'tank/gold@base',
      referenced: pool.get('tank/gold@base').referenced,
    });
    expect(pool.getProperty('tank/vm1', 'origin')).toMatchObject({ value: 'tank/gold@base', source: '-' });

    const c = pool.openVolume('tank/vm1');
    expect((await c.read(0, A.length)).equals(A)).toBe(true);
    await c.write(BS, pattern(2, 2 * BS));
    await pool.sync();
    expect((await vol.read(0, A.length)).equals(A)).toBe(true);
    expect((await pool.openVolume('tank/gold@base').read(0, A.length)).equals(A)).toBe(true);
    const expected = Buffer.from(A);
    pattern(2, 2 * BS).copy(expected, BS);
    expect((await c.read(0, A.length)).equals(expected)).toBe(true);
    // The clone's used is what it wrote, not what it shares.
    expect(pool.get('tank/vm1').used).toBeLessThan(8 * BS);
    await clean(pool);

    expect(await errorOf(pool.destroySnapshot('tank/gold@base'))).toMatchObject({
      kind: 'EBUSY',
      message: expect.stringContaining('tank/vm1'),
    });
    await pool.snapshot('tank/vm1@mine');
    expect(await errorOf(pool.destroy('tank/vm1'))).toMatchObject({ kind: 'EBUSY' });
    await c.write(0, pattern(3, BS));
    await pool.destroySnapshot('tank/vm1@mine');
    await clean(pool);
    await pool.destroy('tank/vm1');
    await pool.destroySnapshot('tank/gold@base');
    await clean(pool);
    await pool.export();
    const again = await Pool.import(io, { paths: ['/v0'] });
    expect(again.list().map((d) => d.name)).toEqual(['tank', 'tank/gold']);
    await clean(again);
    await again.close();
  });

  it('clone filesystems too', async () => {
    const { pool } = await newPool();
    const fs = await pool.createFilesystem('tank/src');
    await fs.create('/f');
    await fs.writeFile('/f', 0, Buffer.from('original'));
    await pool.snapshot('tank/src@s');
    await pool.clone('tank/src@s', 'tank/copy');
    const copy = pool.openFilesystem('tank/copy');
    await copy.writeFile('/f', 0, Buffer.from('changed!'));
    await copy.create('/g');
    await pool.sync();
    expect((await fs.read('/f', 0, 20)).toString()).toBe('original');
    expect((await copy.read('/f', 0, 20)).toString()).toBe('changed!');
    expect((await fs.readdir('/')).map((e) => e.name)).toEqual(['f']);
    await clean(pool);
  });
});

describe('promote', () => {
  it('moves the origin history to the clone, after which the old origin can be destroyed', async () => {
    const { io, pool } = await newPool();
    const o = await pool.createVolume('tank/o', { volsize: MiB, volblocksize: BS, sparse: true });
    const v1 = pattern(1, 16 * BS);
    await o.write(0, v1);
    await pool.snapshot('tank/o@a');
    await o.write(0, pattern(2, 4 * BS));
    await pool.snapshot('tank/o@s');
    const atS = await o.read(0, 16 * BS);
    await o.write(8 * BS, pattern(3, 4 * BS));
    await pool.snapshot('tank/o@later');
    await o.write(12 * BS, pattern(4, 2 * BS));

    await pool.clone('tank/o@s', 'tank/c');
    const c = pool.openVolume('tank/c');
    await c.write(4 * BS, pattern(5, 2 * BS));
    await pool.snapshot('tank/c@c1');
    await c.write(0, pattern(6, BS));
    await pool.sync();
    const before = {
      o: await o.read(0, 16 * BS),
      c: await c.read(0, 16 * BS),
      later: await pool.openVolume('tank/o@later').read(0, 16 * BS),
      c1: await pool.openVolume('tank/c@c1').read(0, 16 * BS),
    };
    await clean(pool);

    expect(await errorOf(pool.promote('tank/o'))).toMatchObject({ kind: 'EINVAL' });
    await pool.promote('tank/c');
    const names = pool.list().map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['tank/c@a', 'tank/c@s', 'tank/c@c1', 'tank/o@later']));
    expect(names).not.toContain('tank/o@a');
    expect(pool.get('tank/o').origin).toBe('tank/c@s');
    expect(pool.get('tank/c').origin).toBeUndefined();
    await clean(pool);
    expect((await pool.openVolume('tank/c@a').read(0, 16 * BS)).equals(v1)).toBe(true);
    expect((await pool.openVolume('tank/c@s').read(0, 16 * BS)).equals(atS)).toBe(true);
    expect((await o.read(0, 16 * BS)).equals(before.o)).toBe(true);
    expect((await c.read(0, 16 * BS)).equals(before.c)).toBe(true);
    expect((await pool.openVolume('tank/o@later').read(0, 16 * BS)).equals(before.later)).toBe(true);
    expect((await pool.openVolume('tank/c@c1').read(0, 16 * BS)).equals(before.c1)).toBe(true);

    // Now the old origin is the dependent one: it goes, and then so can the snapshot it came from.
    expect(await errorOf(pool.destroySnapshot('tank/c@s'))).toMatchObject({ kind: 'EBUSY' });
    await pool.destroySnapshot('tank/o@later');
    await pool.destroy('tank/o');
    await pool.destroySnapshot('tank/c@s');
    await pool.destroySnapshot('tank/c@a');
    await clean(pool);
    expect((await c.read(0, 16 * BS)).equals(before.c)).toBe(true);
    await pool.export();
    const again = await Pool.import(io, { paths: ['/v0'] });
    expect((await again.openVolume('tank/c').read(0, 16 * BS)).equals(before.c)).toBe(true);
    await clean(again);
    await again.close();
  });
});
