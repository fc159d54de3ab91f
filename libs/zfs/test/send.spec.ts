// zfs send / receive between two pools: full and incremental streams of volumes and filesystems, their
// checks (a damaged or truncated stream changes nothing; an incremental stream needs its from-snapshot on
// the target), progress, and the hold that keeps a snapshot while it is sent.
import { CrashSimFileIO } from '@dominion/fsio';
import { Pool, type Filesystem } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const BS = 16 * KiB;
const errorOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

async function newPool(name: string): Promise<Pool> {
  return Pool.create(new CrashSimFileIO(), { name, vdevs: [{ path: '/v0', size: 64 * MiB }] });
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

async function* replay(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

async function tree(fs: Filesystem, dir = '/', out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const e of await fs.readdir(dir)) {
    const path = (dir === '/' ? '' : dir) + '/' + e.name;
    if (e.type === 'dir') {
      out.set(path, 'dir');
      await tree(fs, path, out);
    } else {
      const st = await fs.stat(path);
      const data = await fs.read(path, 0, st.size);
      out.set(path, `${st.size}:${st.mode.toString(8)}:${data.toString('hex').slice(0, 64)}:${data.length}`);
    }
  }
  return out;
}

describe('send and receive of volumes', () => {
  it('copies a snapshot whole, then the changes since it', async () => {
    const src = await newPool('src');
    const dst = await newPool('dst');
    const vol = await src.createVolume('src/v', { volsize: 4 * MiB, volblocksize: BS, compression: 'lz4' });
    await vol.write(0, pattern(1, MiB));
    await vol.write(3 * MiB, Buffer.alloc(64 * KiB, 'z'));
    await src.snapshot('src/v@a');

    const progress: number[] = [];
    const full = await collect(src.send('src/v@a', { onProgress: (b) => progress.push(b) }));
    const total = full.reduce((n, c) => n + c.length, 0);
    expect(progress[progress.length - 1]).toBe(total);
    expect(progress.every((b, i) => i === 0 || b > progress[i - 1])).toBe(true);
    expect(total).toBeGreaterThan(MiB);
    const received: number[] = [];
    expect(await dst.receive('dst/copy', replay(full), { onProgress: (b) => received.push(b) })).toBe('dst/copy@a');
    expect(received[received.length - 1]).toBe(total);
    const copy = dst.openVolume('dst/copy');
    expect((await copy.read(0, 4 * MiB)).equals(await vol.read(0, 4 * MiB))).toBe(true);
    expect(dst.getProperty('dst/copy@a', 'guid').value).toBe(src.getProperty('src/v@a', 'guid').value);
    expect(dst.getProperty('dst/copy', 'compression')).toMatchObject({ value: 'lz4', source: 'local' });

    // Changes: a write, a discard, and an overwrite with zeros (a hole now).
    await vol.write(2 * MiB, pattern(2, 100 * KiB));
    await vol.discard(0, 256 * KiB);
    await vol.write(3 * MiB, Buffer.alloc(16 * KiB));
    await src.snapshot('src/v@b');
    const inc = await collect(src.send('src/v@b', { from: '@a' }));
    const incBytes = inc.reduce((n, c) => n + c.length, 0);
    expect(incBytes).toBeLessThan(200 * KiB); // what changed, not the volume
    await dst.receive('dst/copy', replay(inc));
    expect((await copy.read(0, 4 * MiB)).equals(await vol.read(0, 4 * MiB))).toBe(true);
    expect(dst.list().map((d) => d.name)).toEqual(['dst', 'dst/copy', 'dst/copy@a', 'dst/copy@b']);
    expect((await dst.openVolume('dst/copy@a').read(0, MiB)).equals(pattern(1, MiB))).toBe(true);
    expect((await dst.verify()).problems).toEqual([]);
  });

  it('refuses a damaged or truncated stream and leaves the target as it was', async () => {
    const src = await newPool('src');
    const dst = await newPool('dst');
    const vol = await src.createVolume('src/v', { volsize: MiB, volblocksize: BS });
    await vol.write(0, pattern(1, 8 * BS));
    await src.snapshot('src/v@a');
    await dst.receive('dst/v', src.send('src/v@a'));
    await vol.write(0, pattern(2, 8 * BS));
    await src.snapshot('src/v@b');
    const inc = await collect(src.send('src/v@b', { from: 'src/v@a' }));

    const flipped = inc.map((c) => Buffer.from(c));
    flipped[2][40] ^= 0x10; // inside a WRITE record's data
    expect(await errorOf(dst.receive('dst/v', replay(flipped)))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/checksum mismatch in record 2/),
    });
    expect(await errorOf(dst.receive('dst/v', replay(inc.slice(0, -1))))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/truncated/),
    });
    const swapped = [inc[0], inc[2], inc[1], ...inc.slice(3)];
    expect(await errorOf(dst.receive('dst/v', replay(swapped)))).toMatchObject({ kind: 'EINVAL' });
    expect(dst.list().map((d) => d.name)).toEqual(['dst', 'dst/v', 'dst/v@a']);
    expect((await dst.openVolume('dst/v').read(0, 8 * BS)).equals(pattern(1, 8 * BS))).toBe(true);
    // A damaged full stream creates nothing.
    const full = (await collect(src.send('src/v@a'))).map((c) => Buffer.from(c));
    full[1][100] ^= 1;
    expect(await errorOf(dst.receive('dst/other', replay(full)))).toMatchObject({ kind: 'EINVAL' });
    expect(dst.list().map((d) => d.name)).not.toContain('dst/other');
    // The intact stream goes in.
    await dst.receive('dst/v', replay(inc));
    expect((await dst.openVolume('dst/v').read(0, 8 * BS)).equals(pattern(2, 8 * BS))).toBe(true);
  });

  it('refuses an incremental stream whose from-snapshot is not the target’s latest, or a modified target', async () => {
    const src = await newPool('src');
    const dst = await newPool('dst');
    const vol = await src.createVolume('src/v', { volsize: MiB, volblocksize: BS });
    await vol.write(0, pattern(1, BS));
    await src.snapshot('src/v@a');
    await vol.write(0, pattern(2, BS));
    await src.snapshot('src/v@b');
    await vol.write(0, pattern(3, BS));
    await src.snapshot('src/v@c');
    await dst.receive('dst/v', src.send('src/v@a'));
    const bc = await collect(src.send('src/v@c', { from: '@b' }));
    expect(await errorOf(dst.receive('dst/v', replay(bc)))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringMatching(/does not match incremental source src\/v@b/),
    });
    expect(await errorOf(dst.receive('dst/new', replay(bc)))).toMatchObject({ kind: 'ENOENT' });
    expect(await errorOf(dst.receive('dst/v', src.send('src/v@a')))).toMatchObject({ kind: 'EEXIST' });
    const ab = await collect(src.send('src/v@b', { from: '@a' }));
    await dst.openVolume('dst/v').write(0, Buffer.from('local change'));
    await dst.sync();
    expect(await errorOf(dst.receive('dst/v', replay(ab)))).toMatchObject({ kind: 'EBUSY' });
    await dst.rollback('dst/v@a');
    await dst.receive('dst/v', replay(ab));
    await dst.receive('dst/v', replay(bc));
    expect((await dst.openVolume('dst/v').read(0, BS)).equals(pattern(3, BS))).toBe(true);
    expect(() => src.send('src/v@a', { from: '@c' })).toThrow(expect.objectContaining({ kind: 'EINVAL' }));
  });

  it('holds the snapshots while a stream is read', async () => {
    const src = await newPool('src');
    const vol = await src.createVolume('src/v', { volsize: MiB, volblocksize: BS });
    await vol.write(0, pattern(1, 4 * BS));
    await src.snapshot('src/v@a');
    const it = src.send('src/v@a')[Symbol.asyncIterator]();
    await it.next();
    expect(await errorOf(src.destroySnapshot('src/v@a'))).toMatchObject({ kind: 'EBUSY' });
    while (!(await it.next()).done);
    await src.destroySnapshot('src/v@a');
  });
});

describe('send and receive of filesystems', () => {
  it('copies the tree, then its changes: new, changed, renamed, removed and grown files', async () => {
    const src = await newPool('src');
    const dst = await newPool('dst');
    const fs = await src.createFilesystem('src/home');
    await fs.mkdir('/docs');
    await fs.create('/docs/a');
    await fs.writeFile('/docs/a', 0, pattern(1, 40 * KiB));
    await fs.create('/gone');
    await fs.writeFile('/gone', 0, Buffer.from('bye'));
    for (let i = 0; i < 70; i++) await fs.create(`/n${i}`);
    await src.snapshot('src/home@one');
    await dst.receive('dst/home', src.send('src/home@one'));
    const copy = dst.openFilesystem('dst/home');
    expect(await tree(copy)).toEqual(await tree(fs));

    await fs.writeFile('/docs/a', 8 * KiB, pattern(2, 100));
    await fs.unlink('/gone');
    await fs.rename('/n5', '/docs/moved');
    await fs.create('/big');
    await fs.writeFile('/big', 5 * MiB, pattern(3, 20 * KiB)); // grows the tree by a level
    await fs.truncate('/docs/a', 10 * KiB);
    for (let i = 10; i < 70; i++) await fs.unlink(`/n${i}`);
    await src.snapshot('src/home@two');
    const inc = await collect(src.send('src/home@two', { from: '@one' }));
    await dst.receive('dst/home', replay(inc));
    expect(await tree(copy)).toEqual(await tree(fs));
    expect(await tree(dst.openFilesystem('dst/home@one'))).toEqual(await tree(src.openFilesystem('src/home@one')));
    expect((await dst.verify()).problems).toEqual([]);
  });
});
