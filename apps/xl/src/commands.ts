// Each xl subcommand of this slice over dom0's hypercalls. Output and messages as tools/xl prints them;
// a failure is an XlExit carrying the exit code, its text already written.
import { readFile } from 'node:fs/promises';
import { hostname, machine, release, version } from 'node:os';
import type { DomainInfo, HypervisorClient } from '@dominion/hypervisor';
import {
  domainDoesNotExist,
  formatXlInfo,
  formatXlList,
  formatXlListLong,
  formatXlUptime,
  formatXlUptimeShort,
  formatXlVcpuList,
  NOT_DESTROYING_DOMAIN_0,
  XL_BLOCK_LIST_HEADER,
  XL_NETWORK_LIST_HEADER,
  xlBlockListRow,
  xlNetworkListRow,
  type BlockListRow,
  type NetworkListRow,
  pad,
  resolveDomain,
  type VcpuRow,
} from '@dominion/toolstack';
import { getopt, GetoptError, type Parsed } from './getopt.js';
import { helpText } from './command-table.js';
import { parseMemSizeKb } from './mem-size.js';
import { attachConsole, type ConsoleStdin } from './console-attach.js';
import { DEFAULT_ESCAPE, parseEscapeCharacter } from './console-input.js';
import type { ConsoleLink } from './console-link.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** What `xl console` reads and sends to the guest. */
  stdin?: ConsoleStdin;
}

export class XlExit extends Error {
  override readonly name = 'XlExit';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const EXIT_FAILURE = 1;

/** A request to dom0's toolstack API (`xen.toolstack.0.<verb>`). */
export type ToolstackCall = (verb: string, body: unknown, timeoutMs?: number) => Promise<unknown>;

export interface XlSession {
  hv: HypervisorClient;
  toolstack: ToolstackCall;
  console: ConsoleLink;
}

export type CommandFn = (
  hv: HypervisorClient,
  args: readonly string[],
  io: Io,
  ts: ToolstackCall,
  session: XlSession,
) => Promise<void>;

/** def_getopt: a bad option or too few operands print the command's help and exit 2. */
function options(io: Io, cmd: string, args: readonly string[], spec: string, required: number): Parsed {
  let p: Parsed;
  try {
    p = getopt(args, `h${spec}`);
  } catch (e) {
    if (!(e instanceof GetoptError)) throw e;
    io.err(`xl: ${e.message}\n`);
    io.out(helpText(cmd));
    throw new XlExit(2);
  }
  if (p.opts.has('h')) {
    io.out(helpText(cmd));
    throw new XlExit(0);
  }
  if (p.operands.length < required) {
    io.err(`'xl ${cmd}' requires at least ${required} argument${required > 1 ? 's' : ''}.\n\n`);
    io.out(helpText(cmd));
    throw new XlExit(2);
  }
  return p;
}

/** find_domain(): a name or a domid; an unknown name exits 1 with xl's words. */
async function findDomain(hv: HypervisorClient, arg: string, io: Io): Promise<number> {
  try {
    return resolveDomain(arg, /^[0-9]+$/.test(arg) ? [] : await hv.listDomains());
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'ToolstackError') throw e;
    io.err(`${e.message}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
}

/** A refused hypercall, reported as libxl logs it, then exit 1. */
function libxlFailure(io: Io, domid: number, what: string, e: unknown): never {
  if (!(e instanceof Error) || e.name !== 'BusError') throw e;
  io.err(`libxl: error: Domain ${domid}:${what}: ${e.message}\n`);
  throw new XlExit(EXIT_FAILURE);
}

const isEsrch = (e: unknown): boolean =>
  e instanceof Error && e.name === 'BusError' && (e as Error & { kind?: string }).kind === 'ESRCH';

const list: CommandFn = async (hv, args, io) => {
  const { opts, operands } = options(io, 'list', args, 'l', 0);
  let domains: DomainInfo[];
  if (operands.length === 0) domains = await hv.listDomains();
  else if (operands.length === 1) {
    const domid = await findDomain(hv, operands[0], io);
    try {
      domains = [await hv.getDomainInfo(domid)];
    } catch (e) {
      if (!isEsrch(e)) throw e;
      io.err(`${domainDoesNotExist(domid)}\n`);
      throw new XlExit(EXIT_FAILURE);
    }
  } else {
    io.out(helpText('list'));
    throw new XlExit(EXIT_FAILURE);
  }
  io.out(opts.has('l') ? formatXlListLong(domains.map((info) => ({ info }))) : formatXlList(domains));
};

const destroy: CommandFn = async (hv, args, io, ts) => {
  const { opts, operands } = options(io, 'destroy', args, 'f', 1);
  const domid = await findDomain(hv, operands[0], io);
  if (domid === 0 && !opts.has('f')) {
    io.err(`${NOT_DESTROYING_DOMAIN_0}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  try {
    // A guest goes through the toolstack, which also stops its process and clears its XenStore side.
    await (domid === 0 ? hv.destroyDomain(domid) : ts('destroy', { domid }, TOOLSTACK_TIMEOUT_MS));
  } catch (e) {
    libxlFailure(io, domid, 'Destroying domain', e);
  }
};

/** Longer than the toolstack's own bounds (20 s for a guest to come up), so its message arrives first. */
const TOOLSTACK_TIMEOUT_MS = 30_000;
const SHUTDOWN_WAIT_MS = 30_000;

/** xl create [-p] [-c]: the file is read here and parsed by dom0's toolstack, which reports errors in xl's words. */
const create: CommandFn = async (_hv, args, io, ts, session) => {
  const { opts, operands } = options(io, 'create', args, 'pc', 1);
  const [file, ...overrides] = operands;
  let config: string;
  try {
    config = await readFile(file, 'utf8');
  } catch (e) {
    io.err(
      `Failed to read config file: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`,
    );
    throw new XlExit(EXIT_FAILURE);
  }
  io.err(`Parsing config from ${file}\n`);
  let reply: { domid: number; warnings?: string[] };
  try {
    reply = (await ts('create', { config, source: file, overrides, paused: opts.has('p') }, TOOLSTACK_TIMEOUT_MS)) as {
      domid: number;
      warnings?: string[];
    };
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'BusError') throw e;
    io.err(`${e.message}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  for (const w of reply.warnings ?? []) io.err(`${w}\n`);
  if (opts.has('c')) {
    if (!io.stdin) throw new Error('xl create -c needs a stdin');
    await attachConsole(session.console, reply.domid, DEFAULT_ESCAPE, io.stdin, (t) => io.out(t));
  }
};

/**
 * xl bootstrap-issue <ConfigFile> (Dominion's): dom0 checks the config as create would, registers it for
 * its domain name and answers a new one-time secret, printed alone on stdout (for compose's environment:
 * DOMINION_BOOTSTRAP_NAME / DOMINION_BOOTSTRAP_SECRET). An earlier secret for the name stops working.
 */
const bootstrapIssue: CommandFn = async (_hv, args, io, ts) => {
  const { operands } = options(io, 'bootstrap-issue', args, '', 1);
  if (operands.length > 1) {
    io.out(helpText('bootstrap-issue'));
    throw new XlExit(2);
  }
  const [file] = operands;
  let config: string;
  try {
    config = await readFile(file, 'utf8');
  } catch (e) {
    io.err(
      `Failed to read config file: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`,
    );
    throw new XlExit(EXIT_FAILURE);
  }
  io.err(`Parsing config from ${file}\n`);
  try {
    const r = (await ts('bootstrap-issue', { config, source: file }, TOOLSTACK_TIMEOUT_MS)) as { secret: string };
    io.out(`${r.secret}\n`);
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'BusError') throw e;
    io.err(`${e.message}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
};

/** libxl's ERROR_NOPARAVIRT and ERROR_FAIL, as xl prints them in "shutdown failed (rc=…)". */
const ERROR_NOPARAVIRT = -10;
const ERROR_FAIL = -3;

/**
 * xl shutdown|reboot [-a] [-w] [-F] <Domain> (main_shutdown_or_reboot): -a is every domain but 0; -w waits
 * until each is destroyed or shut down; -F falls back to the "ACPI button" (the hypervisor shuts the domain
 * down at once) for a guest without the PV control interface.
 */
const shutdownOrReboot =
  (what: 'shutdown' | 'reboot'): CommandFn =>
  async (hv, args, io, ts) => {
    const { opts, operands } = options(io, what, args, 'awF', 0);
    const all = opts.has('a');
    if (operands.length === 0 && !all) {
      io.err('You must specify -a or a domain id.\n\n');
      throw new XlExit(EXIT_FAILURE);
    }
    const domids = all
      ? (await hv.listDomains()).filter((d) => d.domid !== 0).map((d) => d.domid)
      : [await findDomain(hv, operands[0], io)];
    const fallback = opts.has('F');
    const button = what === 'reboot' ? 'reset' : 'power';
    for (const domid of domids) {
      io.err(`${what === 'reboot' ? 'Rebooting' : 'Shutting down'} domain ${domid}\n`);
      try {
        const r = (await ts(
          'shutdown',
          { domid, reason: what === 'reboot' ? 'reboot' : 'poweroff', fallback },
          TOOLSTACK_TIMEOUT_MS,
        )) as { button?: boolean };
        if (r.button) io.err(`PV control interface not available: sending ACPI ${button} button event.\n`);
      } catch (e) {
        if (!(e instanceof Error) || e.name !== 'BusError') throw e;
        const kind = (e as Error & { kind?: string }).kind;
        if (kind === 'EOPNOTSUPP') {
          io.err(
            `PV control interface not available: external graceful ${what} not possible.\n` +
              `Use "-F" to fallback to ACPI ${button} event.\n` +
              `${what} failed (rc=${ERROR_NOPARAVIRT})\n`,
          );
        } else io.err(`${e.message}\n${what} failed (rc=${ERROR_FAIL})\n`);
        throw new XlExit(EXIT_FAILURE);
      }
    }
    if (opts.has('w')) await waitForDeaths(hv, domids, io);
  };

/** wait_for_domain_deaths: each domain is done once destroyed, or shut down and kept. */
async function waitForDeaths(hv: HypervisorClient, domids: readonly number[], io: Io): Promise<void> {
  io.err(`Waiting for ${domids.length} domains\n`);
  const waiting = new Set(domids);
  const deadline = Date.now() + SHUTDOWN_WAIT_MS;
  while (waiting.size > 0) {
    const now = new Map((await hv.listDomains()).map((d) => [d.domid, d]));
    for (const domid of [...waiting]) {
      const d = now.get(domid);
      if (!d) io.err(`Domain ${domid} has been destroyed\n`);
      else if (d.shutdown) io.err(`Domain ${domid} has been shut down, reason code ${d.shutdown_code ?? 0}\n`);
      else continue;
      waiting.delete(domid);
    }
    if (waiting.size === 0) return;
    if (Date.now() > deadline) {
      io.err(`Domain ${[...waiting].join(', ')} not destroyed within ${SHUTDOWN_WAIT_MS / 1000} s\n`);
      throw new XlExit(EXIT_FAILURE);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pauseOrUnpause =
  (cmd: 'pause' | 'unpause'): CommandFn =>
  async (hv, args, io) => {
    const { operands } = options(io, cmd, args, '', 1);
    const domid = await findDomain(hv, operands[0], io);
    try {
      await (cmd === 'pause' ? hv.pauseDomain(domid) : hv.unpauseDomain(domid));
    } catch (e) {
      libxlFailure(io, domid, cmd === 'pause' ? 'Pausing domain' : 'Unpausing domain', e);
    }
  };

const memSetOrMax =
  (cmd: 'mem-set' | 'mem-max'): CommandFn =>
  async (hv, args, io) => {
    const { operands } = options(io, cmd, args, '', 2);
    const domid = await findDomain(hv, operands[0], io);
    const mem = operands[1];
    const kb = parseMemSizeKb(mem);
    if (kb === undefined || kb < 0) {
      io.err(`invalid memory size: ${mem}\n`);
      throw new XlExit(EXIT_FAILURE);
    }
    try {
      await (cmd === 'mem-set' ? hv.setTarget(domid, kb) : hv.setMaxMem(domid, kb));
    } catch (e) {
      if (cmd === 'mem-max' && e instanceof Error && e.name === 'BusError') {
        io.err(`cannot set domid ${domid} static max memory to : ${mem}\n`);
        throw new XlExit(EXIT_FAILURE);
      }
      libxlFailure(io, domid, 'Setting memory target', e);
    }
  };

/** xl info [name]: with a name, only the value of the lines starting with it. */
const info: CommandFn = async (hv, args, io) => {
  const { operands } = options(io, 'info', args, '', 0);
  const physinfo = await hv.physinfo();
  io.out(
    formatXlInfo(
      { host: hostname(), release: release(), version: version(), machine: machine(), physinfo },
      operands[0],
    ),
  );
};

const dmesg: CommandFn = async (hv, args, io) => {
  const { opts } = options(io, 'dmesg', args, 'c', 0);
  const lines = await hv.dmesg(opts.has('c'));
  io.out(lines.map((l) => `${l}\n`).join(''));
};

const domid: CommandFn = async (hv, args, io) => {
  const { operands } = options(io, 'domid', args, '', 1);
  const name = operands[0];
  const d = (await hv.listDomains()).find((x) => x.name === name);
  if (!d) {
    io.err(`Can't get domid of domain name '${name}', maybe this domain does not exist.\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  io.out(`${d.domid}\n`);
};

const domname: CommandFn = async (hv, args, io) => {
  const { operands } = options(io, 'domname', args, '', 1);
  // strtol: leading digits count, no digits at all is refused
  const m = /^\s*([+-]?[0-9]+)/.exec(operands[0]);
  if (!m) {
    io.err('Invalid domain id.\n\n');
    throw new XlExit(EXIT_FAILURE);
  }
  const id = Number(m[1]);
  const d = (await hv.listDomains()).find((x) => x.domid === id);
  if (!d) {
    io.err(`Can't get domain name of domain id '${id >>> 0}', maybe this domain does not exist.\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  io.out(`${d.name}\n`);
};

/** The named domains (each through find_domain), or all of them. */
async function selectDomains(hv: HypervisorClient, names: readonly string[], io: Io): Promise<DomainInfo[]> {
  const all = await hv.listDomains();
  if (names.length === 0) return all.sort((a, b) => a.domid - b.domid);
  const out: DomainInfo[] = [];
  for (const n of names) {
    const id = await findDomain(hv, n, io);
    const d = all.find((x) => x.domid === id);
    if (d) out.push(d);
  }
  return out;
}

const uptime: CommandFn = async (hv, args, io) => {
  const { opts, operands } = options(io, 'uptime', args, 's', 0);
  const now = Date.now();
  const rows = (await selectDomains(hv, operands, io)).map((d) => ({
    name: d.name,
    domid: d.domid,
    uptimeSeconds: (now - d.created_at) / 1000,
  }));
  io.out(opts.has('s') ? formatXlUptimeShort(rows, new Date(now)) : formatXlUptime(rows));
};

const vcpuList: CommandFn = async (hv, args, io) => {
  const { operands } = options(io, 'vcpu-list', args, '', 0);
  const domains = await selectDomains(hv, operands, io);
  const { nr_cpus } = await hv.physinfo();
  const rows: VcpuRow[] = domains.flatMap((d) =>
    // Dominion accounts CPU time per domain, not per vCPU: it is shown shared evenly.
    Array.from({ length: d.vcpu_online }, (_, vcpu) => ({
      name: d.name,
      domid: d.domid,
      vcpu,
      cpu: vcpu % Math.max(1, nr_cpus),
      online: true,
      running: d.running,
      blocked: d.blocked,
      time: d.cpu_time / Math.max(1, d.vcpu_online),
    })),
  );
  io.out(formatXlVcpuList(rows));
};

const SCHED_CREDIT_HEADER = `${pad('Name', 33, true)} ${pad('ID', 4)} ${pad('Weight', 6)} ${pad('Cap', 4)}\n`;

const schedCredit: CommandFn = async (hv, args, io) => {
  const { opts } = options(io, 'sched-credit', args, 'd:w:c:', 0);
  const num = (k: 'w' | 'c'): number | undefined => {
    const v = opts.get(k);
    if (typeof v !== 'string') return undefined;
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (Number.isNaN(n)) {
      io.err(`Invalid ${k === 'w' ? 'weight' : 'cap'}: ${v}\n`);
      throw new XlExit(EXIT_FAILURE);
    }
    return n;
  };
  const weight = num('w');
  const cap = num('c');
  const dom = opts.get('d');
  if (typeof dom !== 'string') {
    if (weight !== undefined || cap !== undefined) {
      io.err('Must specify a domain.\n');
      throw new XlExit(EXIT_FAILURE);
    }
  }
  const domains = await selectDomains(hv, typeof dom === 'string' ? [dom] : [], io);
  if (typeof dom === 'string' && domains.length === 0) {
    io.err(`${domainDoesNotExist(Number(dom))}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  if (weight !== undefined || cap !== undefined) {
    const d = domains[0];
    try {
      await hv.schedCredit(d.domid, { ...(weight !== undefined && { weight }), ...(cap !== undefined && { cap }) });
    } catch (e) {
      libxlFailure(io, d.domid, 'Setting domain sched credit', e);
    }
    return;
  }
  const rows = await Promise.all(
    domains.map(async (d) => {
      const s = await hv.schedCredit(d.domid);
      return `${pad(d.name, 33, true)} ${pad(d.domid, 4)} ${pad(s.weight, 6)} ${pad(s.cap, 4)}\n`;
    }),
  );
  io.out(SCHED_CREDIT_HEADER + rows.join(''));
};

/**
 * xl console [-t pv] [-n 0] [-e char] <Domain>: the ring, then live output; stdin goes to the guest a line
 * at a time. The escape character (Ctrl-] unless -e gives `^X` or one literal character) detaches.
 */
const consoleCmd: CommandFn = async (hv, args, io, _ts, session) => {
  const { opts, operands } = options(io, 'console', args, 'n:t:e:', 1);
  const type = opts.get('t');
  if (typeof type === 'string' && !['pv', 'serial', 'vuart'].includes(type)) {
    io.err('console type supported are: pv, serial, vuart\n');
    throw new XlExit(EXIT_FAILURE);
  }
  const num = opts.get('n');
  const escapeArg = opts.get('e');
  const escape = typeof escapeArg === 'string' ? parseEscapeCharacter(escapeArg) : DEFAULT_ESCAPE;
  if (escape === undefined) {
    io.err('Invalid escape argument\n');
    throw new XlExit(EXIT_FAILURE);
  }
  const domid = await findDomain(hv, operands[0], io);
  try {
    await hv.getDomainInfo(domid);
  } catch (e) {
    if (!isEsrch(e)) throw e;
    io.err(`${domainDoesNotExist(domid)}\n`);
    throw new XlExit(EXIT_FAILURE);
  }
  // A Dominion guest has one console, the PV console 0.
  if ((typeof type === 'string' && type !== 'pv') || (typeof num === 'string' && parseInt(num, 10) !== 0)) {
    io.err(
      `libxl: error: Domain ${domid}: console ${typeof type === 'string' ? type : 'pv'} ${num ?? 0} not available (only pv 0)\n`,
    );
    throw new XlExit(EXIT_FAILURE);
  }
  if (!io.stdin) throw new Error('xl console needs a stdin');
  await attachConsole(session.console, domid, escape, io.stdin, (t) => io.out(t));
};

/** A toolstack refusal: its message, then xl's own failure line, exit 1. */
function toolstackFailure(io: Io, e: unknown, line: string): never {
  if (!(e instanceof Error) || e.name !== 'BusError') throw e;
  io.err(`${e.message}\n${line}\n`);
  throw new XlExit(EXIT_FAILURE);
}

/** xl block-attach <Domain> <disk-spec-component(s)>...: the words make one disk spec. */
const blockAttach: CommandFn = async (hv, args, io, ts) => {
  const { operands } = options(io, 'block-attach', args, '', 2);
  const [dom, ...spec] = operands;
  const domid = await findDomain(hv, dom, io);
  try {
    await ts('block-attach', { domid, spec }, TOOLSTACK_TIMEOUT_MS);
  } catch (e) {
    toolstackFailure(io, e, 'libxl_device_disk_add failed.');
  }
};

/** xl block-detach [-f|--force] <Domain> <DevId>: without -f, waits for the frontend to release the device. */
const blockDetach: CommandFn = async (hv, args, io, ts) => {
  const { opts, operands } = options(
    io,
    'block-detach',
    args.map((a) => (a === '--force' ? '-f' : a)),
    'f',
    2,
  );
  const domid = await findDomain(hv, operands[0], io);
  const force = opts.has('f');
  try {
    await ts('block-detach', { domid, device: operands[1], force }, TOOLSTACK_TIMEOUT_MS);
  } catch (e) {
    if (e instanceof Error && (e as Error & { kind?: string }).kind === 'ENODEV') {
      io.err(`Error: Device ${operands[1]} not connected.\n`);
      throw new XlExit(EXIT_FAILURE);
    }
    toolstackFailure(io, e, `libxl_device_disk_${force ? 'destroy' : 'safe_remove'} failed.`);
  }
};

/** xl block-list <Domain(s)>: an unknown name is reported and skipped (exit 0), as xl_block.c does. */
const blockList: CommandFn = async (hv, args, io, ts) => {
  const { operands } = options(io, 'block-list', args, '', 1);
  io.out(`${XL_BLOCK_LIST_HEADER}\n`);
  const domains = await hv.listDomains();
  for (const arg of operands) {
    let domid: number;
    try {
      domid = resolveDomain(arg, domains);
    } catch {
      io.err(`${arg} is an invalid domain identifier\n`);
      continue;
    }
    const { rows } = (await ts('block-list', { domid }, TOOLSTACK_TIMEOUT_MS)) as { rows: BlockListRow[] };
    io.out(rows.map((r) => `${xlBlockListRow(r)}\n`).join(''));
  }
};

/** xl network-attach <Domain> key=value...: each word one key (xl's parse_nic_config, unknown keys fatal). */
const networkAttach: CommandFn = async (hv, args, io, ts) => {
  const { operands } = options(io, 'network-attach', args, '', 1);
  const [dom, ...spec] = operands;
  const domid = await findDomain(hv, dom, io);
  try {
    await ts('network-attach', { domid, spec }, TOOLSTACK_TIMEOUT_MS);
  } catch (e) {
    toolstackFailure(io, e, 'libxl_device_nic_add failed.');
  }
};

/** xl network-detach <Domain> <DevId|mac>. */
const networkDetach: CommandFn = async (hv, args, io, ts) => {
  const { operands } = options(io, 'network-detach', args, '', 2);
  const domid = await findDomain(hv, operands[0], io);
  try {
    await ts('network-detach', { domid, device: operands[1] }, TOOLSTACK_TIMEOUT_MS);
  } catch (e) {
    if (e instanceof Error && (e as Error & { kind?: string }).kind === 'ENODEV') {
      io.err(`Unknown device ${operands[1]}.\n`);
      throw new XlExit(EXIT_FAILURE);
    }
    toolstackFailure(io, e, 'libxl_device_nic_del failed.');
  }
};

/** xl network-list <Domain(s)>: find_domain per argument, so an unknown name exits 1 (xl_nic.c). */
const networkList: CommandFn = async (hv, args, io, ts) => {
  const { operands } = options(io, 'network-list', args, '', 1);
  io.out(`${XL_NETWORK_LIST_HEADER}\n`);
  for (const arg of operands) {
    const domid = await findDomain(hv, arg, io);
    const { rows } = (await ts('network-list', { domid }, TOOLSTACK_TIMEOUT_MS)) as { rows: NetworkListRow[] };
    io.out(rows.map((r) => `${xlNetworkListRow(r)}\n`).join(''));
  }
};

export const COMMAND_FNS: Record<string, CommandFn> = {
  create,
  list,
  destroy,
  shutdown: shutdownOrReboot('shutdown'),
  reboot: shutdownOrReboot('reboot'),
  pause: pauseOrUnpause('pause'),
  unpause: pauseOrUnpause('unpause'),
  'mem-set': memSetOrMax('mem-set'),
  'mem-max': memSetOrMax('mem-max'),
  info,
  dmesg,
  domid,
  domname,
  uptime,
  'vcpu-list': vcpuList,
  'sched-credit': schedCredit,
  console: consoleCmd,
  'block-attach': blockAttach,
  'block-detach': blockDetach,
  'block-list': blockList,
  'network-attach': networkAttach,
  'network-detach': networkDetach,
  'network-list': networkList,
  'bootstrap-issue': bootstrapIssue,
};
