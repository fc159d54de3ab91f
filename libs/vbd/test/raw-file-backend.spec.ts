// RawFileBackend on real files (NodeFileIO in a temporary directory): a sparse image created on demand,
// its size kept, ranges checked, read-only refused, discard to zeros, data surviving a reopen.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { statSync, writeFileSync } from 'node:fs';
import { NodeFileIO } from '@dominion/fsio';
import { tempDir } from '@dominion/testing';
import { RawFileBackend, VbdError } from '../src/index.js';

const io = new NodeFileIO();
const GiB = 1 << 30;

async function failure(p: Promise<unknown>): Promise<VbdError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(VbdError);
  return e as VbdError;
}

describe('RawFileBackend', () => {
  let tmp: { path: string; remove(): void };
  beforeAll(() => {
    tmp = tempDir('vbd-raw-');
  });
  afterAll(() => tmp.remove());

  it('creates a sparse image of the size asked for, in a directory it makes', async () => {
    const path = `${tmp.path}/pool/guest/disk.raw`;
    const d = await RawFileBackend.open({ io, path, size: GiB });
    expect([d.size, d.sectors, d.sectorSize, d.readOnly, d.name]).toEqual([GiB, 2097152n, 512, false, path]);
    const st = statSync(path);
    expect(st.size).toBe(GiB);
    expect(st.blocks * 512).toBeLessThan(1 << 20); // a hole, not a gibibyte of zeros
    expect(await d.read(GiB - 4096, 4096)).toEqual(Buffer.alloc(4096));
    await d.close();
  });

  it('keeps what was written and flushed across a reopen, and keeps an existing image size', async () => {
    const path = `${tmp.path}/keep.raw`;
    const d = await RawFileBackend.open({ io, path, size: 1 << 20 });
    const data = Buffer.alloc(8192, 0x5a);
    await d.write(4096, data);
    await d.flush();
    await d.close();
    const again = await RawFileBackend.open({ io, path });
    expect(again.size).toBe(1 << 20);
    expect(await again.read(4096, 8192)).toEqual(data);
    await again.close();
    const wrong = await failure(RawFileBackend.open({ io, path, size: 2 << 20 }));
    expect(wrong).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining(`${path} is 1048576 bytes, not the 2097152`),
    });
  });

  it('refuses a missing image without a size, and an image that is not whole sectors', async () => {
    const missing = `${tmp.path}/none.raw`;
    expect(await failure(RawFileBackend.open({ io, path: missing }))).toMatchObject({
      kind: 'ENOENT',
      message: expect.stringContaining(missing),
    });
    const odd = `${tmp.path}/odd.raw`;
    writeFileSync(odd, Buffer.alloc(1000));
    expect(await failure(RawFileBackend.open({ io, path: odd }))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('not whole 512-byte sectors'),
    });
    expect(
      await failure(RawFileBackend.open({ io, path: `${tmp.path}/x.raw`, size: 4096 + 512, sectorSize: 4096 })),
    ).toMatchObject({
      kind: 'EINVAL',
    });
  });

  it('checks every range against the disk and its sector size', async () => {
    const d = await RawFileBackend.open({ io, path: `${tmp.path}/4k.raw`, size: 64 * 1024, sectorSize: 4096 });
    expect(await failure(d.read(512, 4096))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('aligned to the 4096-byte'),
    });
    expect(await failure(d.write(60 * 1024, Buffer.alloc(8192)))).toMatchObject({
      kind: 'EINVAL',
      message: expect.stringContaining('past the end'),
    });
    await d.write(60 * 1024, Buffer.alloc(4096, 1));
    expect(await d.read(60 * 1024, 4096)).toEqual(Buffer.alloc(4096, 1));
    await d.close();
  });

  it('refuses writes and discards on a read-only image and still reads it', async () => {
    const path = `${tmp.path}/ro.raw`;
    const w = await RawFileBackend.open({ io, path, size: 8192 });
    await w.write(0, Buffer.alloc(512, 7));
    await w.flush();
    await w.close();
    const ro = await RawFileBackend.open({ io, path, readOnly: true });
    expect(await failure(ro.write(0, Buffer.alloc(512)))).toMatchObject({
      kind: 'EROFS',
      message: expect.stringContaining(path),
    });
    expect(await failure(ro.discard(0, 512))).toMatchObject({ kind: 'EROFS' });
    expect(await ro.read(0, 512)).toEqual(Buffer.alloc(512, 7));
    await ro.close();
  });

  it('discards by writing zeros, across more than one chunk', async () => {
    const path = `${tmp.path}/discard.raw`;
    const d = await RawFileBackend.open({ io, path, size: 4 << 20 });
    await d.write(0, Buffer.alloc(4 << 20, 0xee));
    await d.discard(512, (3 << 20) - 1024);
    const all = await d.read(0, 4 << 20);
    // Buffer.equals, not toEqual: Jest compares megabytes element by element.
    const expected = Buffer.alloc(4 << 20, 0xee).fill(0, 512, (3 << 20) - 512);
    expect(all.equals(expected)).toBe(true);
    await d.close();
  });
});
