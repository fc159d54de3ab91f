// A real 9P2000.L client: Debian's diod package ships userspace tools built on diod's libnpclient
// (diodcat, diodls, diodload). They speak to our server over TCP on 127.0.0.1. tools/setup.sh installs diod.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { MemFilesystem, P9Server, P9_O } from '../src/index.js';
import { listenTcp } from './tcp.js';

const run = promisify(execFile);
const SBIN = '/usr/sbin';
const cred = { uid: 0, gid: 0 };

function tool(name: string): string {
  const path = `${SBIN}/${name}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's diod package (apt-get install diod)`);
  return path;
}

async function putFile(fs: MemFilesystem, dir: number, name: string, data: Buffer): Promise<void> {
  const { attr, handle } = await fs.create(dir, name, P9_O.RDWR, 0o644, cred);
  await fs.write(handle, 0, data);
  await fs.release(handle);
  fs.forget(attr.ino);
}

describe('diod userspace clients against the server over TCP', () => {
  const home = new MemFilesystem();
  const ctl = new MemFilesystem();
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
  let tcp: Awaited<ReturnType<typeof listenTcp>>;
  let server: P9Server;

  beforeAll(async () => {
    const docs = await home.mkdir(home.rootIno, 'docs', 0o755, cred);
    await putFile(home, docs.ino, 'hello.txt', Buffer.from('hello from dominion\n'));
    await putFile(home, docs.ino, 'big.bin', big);
    await home.mkdir(docs.ino, 'sub', 0o700, cred);
    await home.symlink(docs.ino, 'link', 'hello.txt', cred);
    // diodload reads 'zero' and writes 'null' in the export named ctl (as diod's own ctl export has).
    await putFile(ctl, ctl.rootIno, 'zero', Buffer.alloc(65536));
    await putFile(ctl, ctl.rootIno, 'null', Buffer.alloc(0));
    server = new P9Server({
      exports: new Map([
        ['home', home],
        ['ctl', ctl],
      ]),
    });
    tcp = await listenTcp(server);
  });

  afterAll(async () => {
    await tcp.close();
  });

  it('diodcat reads files through a multi-name walk, whole, across many reads', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const small = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-t', '10', 'docs/hello.txt']);
    expect(small.stdout).toBe('hello from dominion\n');
    const whole = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-m', '8192', '-t', '10', 'docs/big.bin'], {
      encoding: 'buffer',
      maxBuffer: 1 << 20,
    });
    expect(Buffer.compare(whole.stdout, big)).toBe(0);
  });

  it('diodcat of a missing file fails with ENOENT, and the server still serves', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const err = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-t', '10', 'docs/nope']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.any(Number) });
    expect((err as { stderr: string }).stderr).toMatch(/No such file or directory/);
    const again = await run(tool('diodcat'), ['-s', s, '-a', 'home', '-t', '10', 'docs/hello.txt']);
    expect(again.stdout).toBe('hello from dominion\n');
  });

  it('diodls lists a directory through readdir, and -l stats every entry', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const ls = await run(tool('diodls'), ['-s', s, '-a', 'home', '-t', '10', 'docs']);
    expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual(['big.bin', 'hello.txt', 'link', 'sub']);
    const long = await run(tool('diodls'), ['-s', s, '-a', 'home', '-l', '-t', '10', 'docs']);
    // mode, nlink, owner, size as the client decoded them from Rgetattr.
    expect(long.stdout).toMatch(/^drwxr-xr-x\.\s+3 root root\s+0 .* \.$/m);
    expect(long.stdout).toMatch(/^-rw-r--r--\.\s+1 root root\s+20 .* hello\.txt$/m);
    expect(long.stdout).toMatch(/^-rw-r--r--\.\s+1 root root\s+300000 .* big\.bin$/m);
    expect(long.stdout).toMatch(/^drwx------\.\s+2 root root\s+0 .* sub$/m);
  });

  it('diodload drives reads and msize-sized writes from two threads', async () => {
    const s = `127.0.0.1:${tcp.port}`;
    const r = await run(tool('diodload'), ['-s', s, '-m', '16384', '-n', '2', '-r', '1']);
    expect(r.stderr).not.toMatch(/error|fail/i);
    const nul = await ctl.lookup(ctl.rootIno, 'null');
    ctl.forget(nul.ino);
    expect(nul.size).toBeGreaterThan(0);
  });
});
