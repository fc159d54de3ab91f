// Labels and the uberblock ring on a real file: import takes the newest uberblock whose checksum verifies,
// and any one of the four label copies of the config.
import { NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { Pool } from '../src/index.js';
import { KiB, MiB, pattern } from './helpers.js';

const SIZE = 16 * MiB;
// From the layout in label.ts: four 256 KiB labels, two at each end; config at +16K; ring of 1 KiB slots at +128K.
const LABELS = [0, 256 * KiB, SIZE - 512 * KiB, SIZE - 256 * KiB];
const slotOf = (label: number, txg: number): number => label + 128 * KiB + (txg % 128) * KiB;

async function flip(io: NodeFileIO, path: string, at: number): Promise<void> {
  const fh = await io.open(path);
  const [b] = await fh.read(at, 1);
  await fh.write(at, Buffer.from([b ^ 0xff]));
  await fh.sync();
  await fh.close();
}

describe('labels and uberblocks', () => {
  const io = new NodeFileIO();
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    dir = tempDir('zfs-label-');
    path = `${dir.path}/vdev0`;
  });
  afterEach(() => dir.remove());

  async function twoTxgs(file: string): Promise<{ older: number; newest: number }> {
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path: file, size: SIZE }] });
    const vol = await pool.createVolume('tank/v', { volsize: MiB });
    await vol.write(0, pattern(1, 8192));
    const older = await pool.sync();
    await vol.write(0, pattern(2, 8192));
    const newest = await pool.sync();
    await pool.export();
    return { older, newest };
  }

  it('writes each txg to its own ring slot in all four labels, and import takes the newest that verifies', async () => {
    const { older, newest } = await twoTxgs(path);
    expect(newest).toBe(older + 1);
    const raw = await io.readFile(path);
    for (const label of LABELS) {
      expect(raw.subarray(slotOf(label, newest), slotOf(label, newest) + 8).toString('latin1')).toBe('DOMUBER1');
      expect(raw.readUInt32LE(slotOf(label, newest) + 16)).toBe(newest); // u64 txg at +16
      expect(raw.readUInt32LE(slotOf(label, older) + 16)).toBe(older);
    }

    // Untouched: the newest txg wins.
    const intact = `${dir.path}/intact`;
    await twoTxgs(intact);
    const a = await Pool.import(io, { paths: [intact] });
    expect((await a.openVolume('tank/v').read(0, 8192)).equals(pattern(2, 8192))).toBe(true);
    await a.export();

    // A bad checksum in every copy of the newest slot: the txg before wins, with its data.
    for (const label of LABELS) await flip(io, path, slotOf(label, newest) + 100);
    const b = await Pool.import(io, { paths: [path] });
    expect((await b.openVolume('tank/v').read(0, 8192)).equals(pattern(1, 8192))).toBe(true);
    expect((await b.verify()).problems).toEqual([]);
    await b.export();
  });

  it('imports from any label whose config verifies, and finds no pool when none does', async () => {
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path, size: SIZE }] });
    await pool.createVolume('tank/v', { volsize: MiB });
    await pool.export();
    for (const label of LABELS.slice(0, 3)) await flip(io, path, label + 16 * KiB + 10);
    const a = await Pool.import(io, { paths: [path] });
    expect(a.name).toBe('tank');
    expect(a.list().map((d) => d.name)).toEqual(['tank', 'tank/v']);
    await a.export();
    await flip(io, path, LABELS[3] + 16 * KiB + 10);
    await expect(Pool.import(io, { paths: [path] })).rejects.toMatchObject({ kind: 'ENOENT' });
  });

  it('refuses to import under another name, and to create over an existing file', async () => {
    const pool = await Pool.create(io, { name: 'tank', vdevs: [{ path, size: SIZE }] });
    await pool.export();
    await expect(Pool.import(io, { paths: [path], name: 'other' })).rejects.toMatchObject({ kind: 'ENOENT' });
    await expect(Pool.create(io, { name: 'tank', vdevs: [{ path, size: SIZE }] })).rejects.toMatchObject({
      kind: 'EEXIST',
    });
    const ok = await Pool.import(io, { paths: [path], name: 'tank' });
    await ok.export();
  });
});
