// The minios shell's network commands over the guest's netfronts, printing what net-tools, iputils and
// netcat print (libs/ipstack's formatters):
//   ifconfig [eth<N> [<a.b.c.d>[/<prefix>]] [up|down]]
//   ping [-c count] [-s size] [-i seconds] [-W seconds] <a.b.c.d>   (count defaults to 4: there is no ^C)
//   arp
//   nc -u <a.b.c.d> <port> [words...]   sends the words as one line in one datagram
//   nc -u -l <port>                     prints each datagram that arrives, from then on
//   nc -u -c <n> -s <bytes> <a.b.c.d> <port>   sends n datagrams of that payload size back to back (a load)
//   nc -u -l -c <n> [-w <s>] <port>     counts datagrams until n came (or none for s seconds, default 5)
//                                       and prints how many, their bytes and the time from first to last
import {
  formatIpv4,
  formatPingEvent,
  formatPingHeader,
  formatPingSummary,
  parseIpv4,
  type IpStack,
} from '@dominion/ipstack';

/** What the commands need: the interfaces by name. */
export interface NetShellHost {
  stacks(): IpStack[];
}

type Print = (line: string) => void;
type NetCommand = (args: string[], print: Print, write: (text: string) => void) => Promise<void> | void;

function byName(host: NetShellHost, name: string): IpStack | undefined {
  return host.stacks().find((s) => s.state.name === name);
}

/** The interface whose subnet holds `dst`, else the first with an address. */
function routeTo(host: NetShellHost, dst: number): IpStack | undefined {
  const withIp = host.stacks().filter((s) => s.state.ipv4 !== undefined);
  return (
    withIp.find((s) => {
      const mask = parseIpv4(s.state.netmask!, 'netmask');
      return ((parseIpv4(s.state.ipv4!, 'ip') ^ dst) & mask) >>> 0 === 0;
    }) ?? withIp[0]
  );
}

function ifconfig(host: NetShellHost): NetCommand {
  return (args, print, write) => {
    if (args.length === 0) {
      for (const s of host.stacks()) write(s.formatIfconfig());
      return;
    }
    const [name, ...rest] = args;
    const s = byName(host, name);
    if (!s) return print(`${name}: error fetching interface information: Device not found`);
    if (rest.length === 0) return write(s.formatIfconfig());
    for (const a of rest) {
      if (a === 'up') s.up();
      else if (a === 'down') s.down();
      else {
        const m = /^([0-9.]+)(?:\/([0-9]{1,2}))?$/.exec(a);
        if (!m || Number(m[2] ?? 24) > 32) return print(`ifconfig: ${a}: bad address`);
        try {
          s.configure({ ipv4: m[1], prefix: Number(m[2] ?? 24) });
        } catch (e) {
          return print(`ifconfig: ${a}: ${(e as Error).message}`);
        }
        s.up();
      }
    }
  };
}

function number(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`invalid ${what}: '${v ?? ''}'`);
  return n;
}

function ping(host: NetShellHost): NetCommand {
  return async (args, print) => {
    let count = 4;
    let size: number | undefined;
    let intervalMs: number | undefined;
    let timeoutMs: number | undefined;
    let dst: string | undefined;
    try {
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === '-c') count = number(args[++i], 'count');
        else if (a === '-s') size = number(args[++i], 'packet size');
        else if (a === '-i') intervalMs = number(args[++i], 'interval') * 1000;
        else if (a === '-W') timeoutMs = number(args[++i], 'timeout') * 1000;
        else if (a.startsWith('-')) throw new Error(`invalid option -- '${a.slice(1)}'`);
        else dst = a;
      }
    } catch (e) {
      return print(`ping: ${(e as Error).message}`);
    }
    if (dst === undefined) return print('Usage: ping [-c count] [-s size] [-i interval] [-W timeout] <destination>');
    let target: number;
    try {
      target = parseIpv4(dst, 'ping destination');
    } catch {
      return print(`ping: ${dst}: Name or service not known`);
    }
    const s = routeTo(host, target);
    if (!s) return print('ping: connect: Network is unreachable');
    const text = formatIpv4(target);
    print(formatPingHeader(text, size ?? 56));
    try {
      const r = await s.ping(text, { count, size, intervalMs, timeoutMs, onEvent: (e) => print(formatPingEvent(e)) });
      print('');
      print(formatPingSummary(r));
    } catch (e) {
      print(`ping: ${(e as Error).message}`);
    }
  };
}

/** Datagrams sent between yields of the load generator, so the tx ring drains and rx runs. */
const LOAD_BURST = 16;

/** `nc -u -c <n> -s <bytes> <host> <port>`: n datagrams of `bytes` zeros, as fast as the stack takes them. */
async function ncLoad(host: NetShellHost, args: string[], print: Print): Promise<void> {
  let count = 0;
  let size = 0;
  const rest: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-c') count = number(args[++i], 'count');
      else if (args[i] === '-s') size = number(args[++i], 'size');
      else rest.push(args[i]);
    }
  } catch (e) {
    return print(`nc: ${(e as Error).message}`);
  }
  const [dst, portText] = rest;
  const port = Number(portText);
  if (dst === undefined || !Number.isInteger(port) || port < 1 || port > 0xffff || count < 1)
    return print('Usage: nc -u -c <count> -s <bytes> <host> <port>');
  let target: number;
  try {
    target = parseIpv4(dst, 'nc destination');
  } catch {
    return print(`nc: getaddrinfo for host "${dst}" port ${portText}: Name or service not known`);
  }
  const s = routeTo(host, target);
  if (!s) return print('nc: connect: Network is unreachable');
  const sock = s.udpBind(0, () => undefined);
  const payload = Buffer.alloc(size);
  const started = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      sock.send(formatIpv4(target), port, payload);
      if (i % LOAD_BURST === LOAD_BURST - 1) await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    print(`nc: ${(e as Error).message}`);
  } finally {
    sock.close();
  }
  print(`sent ${count} datagrams, ${count * size} bytes in ${(performance.now() - started).toFixed(1)} ms`);
}

/** `nc -u -l -c <n> [-w <s>] <port>`: counts datagrams; prints the count, bytes and first-to-last time. */
async function ncCount(host: NetShellHost, args: string[], print: Print): Promise<void> {
  let count = 0;
  let idleMs = 5000;
  let portText: string | undefined;
  try {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-c') count = number(args[++i], 'count');
      else if (args[i] === '-w') idleMs = number(args[++i], 'timeout') * 1000;
      else portText = args[i];
    }
  } catch (e) {
    return print(`nc: ${(e as Error).message}`);
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 0xffff || count < 1)
    return print('Usage: nc -u -l -c <count> [-w <seconds>] <port>');
  const stacks = host.stacks();
  if (stacks.length === 0) return print('nc: no network interface');
  let n = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(done, idleMs);
  };
  const socks = [];
  try {
    for (const s of stacks)
      socks.push(
        s.udpBind(port, (d) => {
          last = performance.now();
          if (n === 0) first = last;
          n++;
          bytes += d.payload.length;
          if (n >= count) done();
          else arm();
        }),
      );
  } catch (e) {
    for (const k of socks) k.close();
    return print(`nc: ${(e as Error).message}`);
  }
  arm();
  await finished;
  clearTimeout(idle);
  for (const k of socks) k.close();
  print(`received ${n} datagrams, ${bytes} bytes in ${(last - first).toFixed(1)} ms`);
}

function nc(host: NetShellHost): NetCommand {
  return (args, print, write) => {
    if (args[0] !== '-u') return print('nc: only UDP (-u) is supported');
    if (args[1] === '-l' && args.includes('-c')) return ncCount(host, args.slice(2), print);
    if (args[1] === '-c') return ncLoad(host, args.slice(1), print);
    if (args[1] === '-l') {
      const port = Number(args[2]);
      if (!Number.isInteger(port) || port < 1 || port > 0xffff) return print('Usage: nc -u -l <port>');
      const stacks = host.stacks();
      if (stacks.length === 0) return print('nc: no network interface');
      for (const s of stacks) {
        try {
          s.udpBind(port, (d) => write(d.payload.toString('utf8')));
        } catch (e) {
          return print(`nc: ${(e as Error).message}`);
        }
      }
      return;
    }
    const [, dst, portText, ...words] = args;
    const port = Number(portText);
    if (dst === undefined || !Number.isInteger(port) || port < 1 || port > 0xffff)
      return print('Usage: nc -u <host> <port> [words...] | nc -u -l <port>');
    let target: number;
    try {
      target = parseIpv4(dst, 'nc destination');
    } catch {
      return print(`nc: getaddrinfo for host "${dst}" port ${portText}: Name or service not known`);
    }
    const s = routeTo(host, target);
    if (!s) return print('nc: connect: Network is unreachable');
    const sock = s.udpBind(0, () => undefined);
    try {
      sock.send(formatIpv4(target), port, Buffer.from(`${words.join(' ')}\n`));
    } catch (e) {
      print(`nc: ${(e as Error).message}`);
    } finally {
      sock.close();
    }
  };
}

/** The commands, for the shell to look up by name. */
export function netShellCommands(host: NetShellHost): Record<string, NetCommand> {
  return {
    ifconfig: ifconfig(host),
    ping: ping(host),
    arp: (_args, _print, write) => {
      for (const s of host.stacks()) write(s.formatArp());
    },
    nc: nc(host),
  };
}

/** The command called `name`, if it is one of these (own names only: no `toString`). */
export function netShellCommand(host: NetShellHost, name: string): NetCommand | undefined {
  const all = netShellCommands(host);
  return Object.hasOwn(all, name) ? all[name] : undefined;
}

export const NET_SHELL_HELP: Array<[string, string]> = [
  ['ifconfig [eth<N> [addr/prefix] [up|down]]', 'network interfaces'],
  ['ping [-c N] [-s size] [-i s] <addr>', 'ICMP echo'],
  ['arp', 'the ARP cache'],
  ['nc -u <addr> <port> [words]', 'sends a UDP line'],
  ['nc -u -l <port>', 'prints UDP datagrams arriving'],
  ['nc -u -c N -s bytes <addr> <port>', 'sends N datagrams (a load)'],
  ['nc -u -l -c N [-w s] <port>', 'counts datagrams arriving'],
];
