// `xl console` as a user runs it: the built xl attached to a real minios guest's console over the bus, with
// stdin a pipe. The ring shows what came before; Ctrl-] (or the -e character) detaches with exit 0.
import { spawn } from 'node:child_process';
import { waitFor } from '@dominion/testing';
import { miniosCfg, startDominion, xlMain, type Dominion } from './dominion-e2e.js';

interface Attached {
  stdout(): string;
  stderr(): string;
  write(text: string): void;
  end(text?: string): void;
  exit: Promise<number | null>;
}

const UNAME = /^Dominion minios [0-9.]+ xen$/m;

describe('xl console (end to end)', () => {
  let dominion: Dominion;
  let domid: number;

  const attach = (...args: string[]): Attached => xlAttached('console', ...args);
  const xlAttached = (...args: string[]): Attached => {
    const p = spawn(process.execPath, [xlMain, ...args], {
      env: { ...process.env, ...dominion.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
    return {
      stdout: () => out,
      stderr: () => err,
      write: (t) => p.stdin.write(t),
      end: (t) => p.stdin.end(t),
      exit,
    };
  };

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-console-');
    expect(await dominion.xl('create', miniosCfg)).toMatchObject({ code: 0 });
    domid = (await dominion.hv.listDomains()).find((d) => d.name === 'minios-1')!.domid;
  }, 30000);

  afterAll(async () => {
    await dominion?.xl('destroy', 'minios-1');
    expect(await dominion?.stop()).toBe(0);
  });

  let transcript = '';

  it('prints the ring (boot banner and prompt), runs a typed line, and Ctrl-] detaches with exit 0', async () => {
    const c = attach('minios-1');
    const banner = `Dominion minios`;
    await waitFor(() => c.stdout().endsWith('minios# '), 5000, `the prompt from the ring: ${c.stdout()}`);
    expect(c.stdout()).toMatch(new RegExp(`^${banner} [0-9.]+ \\(domain ${domid}\\)\\nminios# $`));
    c.write('uname\n');
    await waitFor(() => UNAME.test(c.stdout()) && c.stdout().endsWith('minios# '), 5000, 'uname to answer');
    c.write('\x1d');
    expect(await c.exit).toBe(0);
    expect(c.stderr()).toBe('');
    transcript = c.stdout();
    expect(transcript).toMatch(/minios# uname\nDominion minios [0-9.]+ xen\nminios# $/);
  });

  it('attaching again prints the earlier output first; piped input ends by detaching once the guest answered', async () => {
    expect(transcript).not.toBe('');
    const c = attach('minios-1');
    c.end('uptime');
    expect(await c.exit).toBe(0);
    expect(c.stdout().startsWith(transcript)).toBe(true);
    expect(c.stdout().slice(transcript.length)).toMatch(/^uptime\nup .+\nminios# $/);
  });

  it('-e ^a makes Ctrl-A the escape: Ctrl-] is then plain input', async () => {
    const c = attach('-e', '^a', 'minios-1');
    await waitFor(() => c.stdout().endsWith('minios# '), 5000, 'the ring');
    c.write('\x1dfoo\n');
    await waitFor(() => c.stdout().includes('\x1dfoo: command not found\n'), 5000, 'the guest to get the line');
    c.write('\x01');
    expect(await c.exit).toBe(0);
  });

  it('xl create -c attaches the console of the new domain at once; Ctrl-] detaches and leaves it running', async () => {
    const c = xlAttached('create', '-c', miniosCfg, 'name="minios-c"');
    await waitFor(() => c.stdout().endsWith('minios# '), 20000, `the new guest's prompt: ${c.stdout()}`);
    const created = (await dominion.hv.listDomains()).find((d) => d.name === 'minios-c')!;
    expect(c.stdout()).toMatch(new RegExp(`^Dominion minios [0-9.]+ \\(domain ${created.domid}\\)\\nminios# $`));
    c.write('uname\n');
    await waitFor(() => UNAME.test(c.stdout()), 5000, 'uname to answer');
    c.write('\x1d');
    expect(await c.exit).toBe(0);
    expect(c.stderr()).toBe(`Parsing config from ${miniosCfg}\n`);
    expect((await dominion.hv.getDomainInfo(created.domid)).shutdown).toBe(false);
    expect(await dominion.xl('destroy', 'minios-c')).toMatchObject({ code: 0 });
  });

  it('refuses an unknown domain and a bad escape argument with exit 1, as xl does', async () => {
    const unknown = attach('nosuch');
    expect(await unknown.exit).toBe(1);
    expect(unknown.stderr()).toBe('nosuch is an invalid domain identifier (rc=-6)\n');
    const gone = attach('999');
    expect(await gone.exit).toBe(1);
    expect(gone.stderr()).toBe("Error: Domain '999' does not exist.\n");
    const bad = attach('-e', 'ab', 'minios-1');
    expect(await bad.exit).toBe(1);
    expect(bad.stderr()).toBe('Invalid escape argument\n');
  });
});
