import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import { type CrashMode, CrashSimFileIO, mkdirDurably, NodeFileIO, writeFileDurably } from '../src/index.js';

const MODES: CrashMode[] = ['drop-all', 'random-subset', 'reorder-prefix'];

describe('writeFileDurably', () => {
  it('leaves the old contents or the new ones after a power cut at any step, and the new ones once done', async () => {
    const outcomes = new Set<string>();
    let completed = false;
    for (let step = 0; !completed; step++) {
      const io = new CrashSimFileIO();
      await mkdirDurably(io, '/etc/xen');
      await writeFileDurably(io, '/etc/xen/state', Buffer.from('old'));
      io.powerCutAfter(step);
      completed = await writeFileDurably(io, '/etc/xen/state', Buffer.from('new contents')).then(
        () => true,
        () => false,
      );
      for (const mode of MODES) {
        for (let seed = 0; seed < 8; seed++) {
          const got = (await io.crash({ seed, mode }).readFile('/etc/xen/state')).toString();
          expect(completed ? ['new contents'] : ['old', 'new contents']).toContain(got);
          outcomes.add(got);
        }
      }
    }
    expect([...outcomes].sort()).toEqual(['new contents', 'old']);
  });

  it('replaces a real file', async () => {
    const t = tempDir('fsio-ops-');
    try {
      const io = new NodeFileIO();
      const path = join(t.path, 'a', 'b', 'state');
      await mkdirDurably(io, join(t.path, 'a', 'b'));
      await writeFileDurably(io, path, Buffer.from('one'));
      await writeFileDurably(io, path, Buffer.from('two'));
      expect(await io.readFile(path)).toEqual(Buffer.from('two'));
      expect(await io.readdir(join(t.path, 'a', 'b'))).toEqual(['state']);
    } finally {
      t.remove();
    }
  });
});

describe('mkdirDurably', () => {
  it('makes every directory it creates survive a power cut', async () => {
    const io = new CrashSimFileIO();
    await io.mkdirp('/var');
    await io.fsyncDir('/');
    await mkdirDurably(io, '/var/lib/xenstored/tdb');
    for (const mode of MODES) {
      for (let seed = 0; seed < 16; seed++)
        expect(await io.crash({ seed, mode }).exists('/var/lib/xenstored/tdb')).toBe(true);
    }
  });

  it('may lose a plain mkdir -p, which is why it exists', async () => {
    const io = new CrashSimFileIO();
    await io.mkdirp('/var/lib/xenstored');
    expect(await io.crash({ mode: 'drop-all' }).exists('/var')).toBe(false);
  });
});
