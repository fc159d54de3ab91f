// The builtin `minios` kernel: a console shell over the guest API. Output mimics the tools a Xen guest runs
// (xenstore-read/-write/-ls from xenstore-utils, procps' free -k); device commands join later.
import { formatUptime } from '@dominion/toolstack';
import type { GuestApi, GuestKernel } from './kernel.js';
import { NET_SHELL_HELP, netShellCommand } from './netfront/shell.js';
import { BLOCK_COMMANDS_HELP, blkstat, dd, lsblk, sha256sum } from './blkfront/shell.js';

export const MINIOS_VERSION = '0.1.0';
export const MINIOS_PROMPT = 'minios# ';

type Command = (api: GuestApi, args: string[]) => Promise<void> | void;

const HELP: Array<[string, string]> = [
  ['help', 'this list'],
  ['uname', 'the kernel name and version'],
  ['uptime', 'time since boot'],
  ['free', 'memory in KiB (total from memory/target)'],
  ['xenstore-ls [path]', 'the XenStore tree under path (default: this domain’s home)'],
  ['xenstore-read <path>', 'a XenStore value'],
  ['xenstore-write <path> <value>', 'sets a XenStore value'],
  ['halt', 'power off'],
  ['reboot', 'reboot'],
];

const out = (api: GuestApi, line: string): void => api.console.write(`${line}\n`);

/** xenstore-ls prints values between quotes, with control characters and `\` escaped as C does. */
function sanitise(v: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what xenstore-ls escapes
  return v.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '"') return '\\"';
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  });
}

async function ls(api: GuestApi, path: string, depth: number): Promise<void> {
  const children = await api.xenstore.directory(path);
  for (const name of children) {
    const child = path === '/' ? `/${name}` : path === '' ? name : `${path}/${name}`;
    let value: string;
    try {
      value = await api.xenstore.read(child);
    } catch {
      out(api, `${' '.repeat(depth)}${name}:  (permission denied)`);
      continue;
    }
    out(api, `${' '.repeat(depth)}${name} = "${sanitise(value)}"`);
    await ls(api, child, depth + 1).catch(() => undefined);
  }
}

const COMMANDS: Record<string, Command> = {
  help: (api) => {
    out(api, 'minios commands:');
    for (const [c, what] of HELP) out(api, `  ${c.padEnd(30)} ${what}`);
    if (api.net) for (const [c, what] of NET_SHELL_HELP) out(api, `  ${c.padEnd(30)} ${what}`);
    for (const [c, what] of BLOCK_COMMANDS_HELP) out(api, `  ${c.padEnd(30)} ${what}`);
  },
  uname: (api) => out(api, `Dominion minios ${MINIOS_VERSION} xen`),
  uptime: (api) => out(api, `up ${formatUptime(api.uptime()).trim()}`),
  free: async (api) => {
    const target = await api.xenstore.read('memory/target').catch(() => '');
    const total = /^[0-9]+$/.test(target) ? Number(target) : 0;
    const used = Math.min(api.memory.usedKiB(), total);
    out(api, `${''.padEnd(8)}${'total'.padStart(12)}${'used'.padStart(12)}${'free'.padStart(12)}`);
    out(
      api,
      `${'Mem:'.padEnd(8)}${String(total).padStart(12)}${String(used).padStart(12)}${String(total - used).padStart(12)}`,
    );
  },
  'xenstore-ls': async (api, args) => {
    const path = args[0] ?? '';
    try {
      await ls(api, path, 0);
    } catch {
      out(api, `xenstore-ls: could not list path ${path || '(home)'}`);
    }
  },
  'xenstore-read': async (api, args) => {
    if (args.length !== 1) return out(api, 'Usage: xenstore-read <path>');
    try {
      out(api, await api.xenstore.read(args[0]));
    } catch {
      out(api, `xenstore-read: couldn't read path ${args[0]}`);
    }
  },
  'xenstore-write': async (api, args) => {
    if (args.length !== 2) return out(api, 'Usage: xenstore-write <path> <value>');
    try {
      await api.xenstore.write(args[0], args[1]);
    } catch {
      out(api, `xenstore-write: could not write path ${args[0]}`);
    }
  },
  // blkfront's disks (src/blkfront/shell.ts)
  lsblk: (api) => lsblk(api.block, (l) => out(api, l)),
  dd: (api, args) => dd(api.block, (l) => out(api, l), args),
  sha256sum: (api, args) => sha256sum(api.block, (l) => out(api, l), args),
  blkstat: (api) => blkstat(api.block, (l) => out(api, l)),
  halt: async (api) => {
    out(api, 'System halted.');
    await api.shutdown('poweroff');
  },
  reboot: async (api) => {
    out(api, 'Restarting system.');
    await api.shutdown('reboot');
  },
};

/** Splits a command line on blanks; "double" or 'single' quotes keep blanks in one word. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

export function createMinios(): GuestKernel {
  let api: GuestApi | undefined;
  // Lines run one after another, in the order they were typed.
  let queue: Promise<void> = Promise.resolve();
  const run = async (line: string): Promise<void> => {
    const a = api!;
    a.console.write(`${line}\n`);
    const [cmd, ...args] = splitWords(line);
    if (cmd !== undefined) {
      const f = COMMANDS[cmd];
      const net = a.net && netShellCommand(a.net, cmd);
      if (f) await f(a, args);
      else if (net)
        await net(
          args,
          (l) => out(a, l),
          (t) => a.console.write(t),
        );
      else out(a, `${cmd}: command not found`);
    }
    a.console.write(MINIOS_PROMPT);
  };
  return {
    name: 'minios',
    start(a) {
      api = a;
      out(a, `Dominion minios ${MINIOS_VERSION} (domain ${a.domid})`);
      a.console.write(MINIOS_PROMPT);
    },
    input(line) {
      if (!api) return;
      queue = queue.then(() =>
        run(line).catch((e: unknown) => out(api!, `minios: ${e instanceof Error ? e.message : String(e)}`)),
      );
      return queue;
    },
  };
}
