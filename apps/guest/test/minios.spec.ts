// The minios shell against an in-memory guest API: every command's output, as typed on the console.
import { createMinios, MINIOS_PROMPT, MINIOS_VERSION, splitWords } from '../src/minios.js';
import type { GuestApi, GuestShutdownReason } from '../src/kernel.js';
import { resolveXsPath } from '../src/xs-path.js';

function boot(nodes: Record<string, string> = {}) {
  const home = '/local/domain/7';
  const store = new Map<string, string>(Object.entries(nodes));
  let text = '';
  const shutdowns: GuestShutdownReason[] = [];
  const denied = (p: string) => p === `${home}/secret` || p === home;
  const api: GuestApi = {
    domid: 7,
    console: { write: (t) => (text += t) },
    xenstore: {
      read: async (p) => {
        const a = resolveXsPath(home, p);
        const v = store.get(a);
        if (v === undefined || a === `${home}/secret`) throw new Error(`ENOENT ${a}`);
        return v;
      },
      write: async (p, v) => {
        const a = resolveXsPath(home, p);
        if (denied(a) || !a.startsWith(`${home}/data`)) throw new Error(`EACCES ${a}`);
        store.set(a, v);
      },
      directory: async (p) => {
        const a = resolveXsPath(home, p);
        const kids = new Set<string>();
        for (const k of store.keys()) if (k.startsWith(`${a}/`)) kids.add(k.slice(a.length + 1).split('/')[0]);
        return [...kids];
      },
    },
    memory: { usedKiB: () => 8 },
    shutdown: async (r) => void shutdowns.push(r),
    uptime: () => 3725,
  };
  const k = createMinios();
  void k.start(api);
  const run = async (line: string): Promise<string> => {
    text = '';
    await k.input(line);
    expect(text.startsWith(`${line}\n`)).toBe(true);
    expect(text.endsWith(MINIOS_PROMPT)).toBe(true);
    return text.slice(line.length + 1, -MINIOS_PROMPT.length);
  };
  return { run, store, shutdowns, banner: () => text };
}

describe('minios shell', () => {
  it('boots with a banner and a prompt', () => {
    const g = boot();
    expect(g.banner()).toBe(`Dominion minios ${MINIOS_VERSION} (domain 7)\n${MINIOS_PROMPT}`);
  });

  it('help lists every command', async () => {
    const out = await boot().run('help');
    for (const c of [
      'help',
      'uname',
      'uptime',
      'free',
      'xenstore-ls',
      'xenstore-read',
      'xenstore-write',
      'halt',
      'reboot',
    ])
      expect(out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('uname, uptime', async () => {
    const g = boot();
    expect(await g.run('uname')).toBe(`Dominion minios ${MINIOS_VERSION} xen\n`);
    expect(await g.run('uptime')).toBe('up 1:02:05\n');
  });

  it('free reads memory/target in KiB', async () => {
    const out = await boot({ '/local/domain/7/memory/target': '65536' }).run('free');
    expect(out.split('\n')[1]).toMatch(/^Mem:\s+65536\s+8\s+65528$/);
  });

  it('xenstore-read / -write on relative and absolute paths, with the tools’ messages on failure', async () => {
    const g = boot({ '/local/domain/7/name': 'guest-a' });
    expect(await g.run('xenstore-read name')).toBe('guest-a\n');
    expect(await g.run('xenstore-read /local/domain/7/name')).toBe('guest-a\n');
    expect(await g.run('xenstore-read nope')).toBe("xenstore-read: couldn't read path nope\n");
    expect(await g.run('xenstore-read')).toBe('Usage: xenstore-read <path>\n');
    expect(await g.run('xenstore-write data/greeting "hello world"')).toBe('');
    expect(g.store.get('/local/domain/7/data/greeting')).toBe('hello world');
    expect(await g.run('xenstore-write name x')).toBe('xenstore-write: could not write path name\n');
    expect(g.store.get('/local/domain/7/name')).toBe('guest-a');
  });

  it('xenstore-ls prints the tree indented, quoting values', async () => {
    const g = boot({
      '/local/domain/7/name': 'a',
      '/local/domain/7/control': '',
      '/local/domain/7/control/shutdown': '',
      '/local/domain/7/data': '',
      '/local/domain/7/data/q': 'say "hi"\n',
    });
    expect(await g.run('xenstore-ls')).toBe(
      'name = "a"\ncontrol = ""\n shutdown = ""\ndata = ""\n q = "say \\"hi\\"\\n"\n',
    );
    expect(await g.run('xenstore-ls data')).toBe('q = "say \\"hi\\"\\n"\n');
  });

  it('halt and reboot shut the domain down with their reasons', async () => {
    const g = boot();
    expect(await g.run('halt')).toBe('System halted.\n');
    expect(await g.run('reboot')).toBe('Restarting system.\n');
    expect(g.shutdowns).toEqual(['poweroff', 'reboot']);
  });

  it('an unknown command, and an empty line', async () => {
    const g = boot();
    expect(await g.run('frobnicate now')).toBe('frobnicate: command not found\n');
    expect(await g.run('')).toBe('');
  });

  it('splits words with quotes', () => {
    expect(splitWords(` a  "b c" 'd'`)).toEqual(['a', 'b c', 'd']);
  });
});
