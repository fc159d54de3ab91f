// `zpool`: the pool front end, OpenZFS's verbs, columns and status layout, over the ZFS domain's API.
import type { PoolStatus, VdevStatus } from '@dominion/zfs';
import type { ScrubProgressInfo } from '../pools.js';
import { ctime, elapsed, nicebytes, table, type Column } from './format.js';
import { getopt, UsageError, valuesOf } from './getopt.js';
import { messageOf, type CliIo, type ZfsCall } from './io.js';

type PoolView = PoolStatus & { scanProgress?: ScrubProgressInfo };

const USAGE = `usage: zpool command args ...
where 'command' is one of the following:

	create <pool> <vdev> ...
	import <pool>
	export <pool> ...
	list [-Hp] [-o property[,...]] [pool] ...
	status [pool] ...
	scrub [-w] <pool> ...

each vdev is a file under the ZFS domain's directory, or 'mirror <file> <file> ...';
create takes -o size=<size> (default 1G), the size of each file.
`;

export async function runZpool(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  const cmd = verb === undefined ? undefined : COMMANDS[verb];
  if (!cmd) {
    if (verb !== undefined) io.err(`unrecognized command '${verb}'\n`);
    io.err(USAGE);
    return 2;
  }
  try {
    return await cmd(rest, call, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return 2;
    }
    io.err(`${messageOf(e)}\n`);
    return 1;
  }
}

type Command = (argv: readonly string[], call: ZfsCall, io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  create: async (argv, call) => {
    const p = getopt(argv, 'o:');
    const [name, ...specs] = p.args;
    if (name === undefined) throw new UsageError('missing pool name argument');
    if (specs.length === 0) throw new UsageError('missing vdev specification');
    let size = '1G';
    for (const kv of valuesOf(p, 'o')) {
      const [k, v] = kv.split('=', 2);
      if (k !== 'size' || !v) throw new UsageError(`property '${k}' is not a valid pool property`);
      size = v;
    }
    const vdevs: Array<{ type: 'mirror' | 'file'; paths: string[]; size: string }> = [];
    for (let i = 0; i < specs.length; i++) {
      if (specs[i] === 'mirror') {
        const paths: string[] = [];
        while (i + 1 < specs.length && specs[i + 1] !== 'mirror') paths.push(specs[++i]);
        if (paths.length < 2) throw new Error(`invalid vdev specification: mirror requires at least 2 devices`);
        vdevs.push({ type: 'mirror', paths, size });
      } else vdevs.push({ type: 'file', paths: [specs[i]], size });
    }
    await call('pool-create', { name, vdevs });
    return 0;
  },
  import: async (argv, call, io) => {
    const p = getopt(argv, '');
    if (p.args.length === 0) {
      io.err('zpool import needs the pool name: importable pools are not listed yet\n');
      return 2;
    }
    for (const name of p.args) await call('pool-import', { name });
    return 0;
  },
  export: async (argv, call) => {
    const p = getopt(argv, '');
    if (p.args.length === 0) throw new UsageError('missing pool argument');
    for (const name of p.args) await call('pool-export', { name });
    return 0;
  },
  list: async (argv, call, io) => {
    const p = getopt(argv, 'Hpo:');
    const pools = await call<PoolView[]>('pool-list', {});
    for (const n of p.args) if (!pools.some((x) => x.name === n)) throw new Error(`cannot open '${n}': no such pool`);
    const shown = p.args.length > 0 ? pools.filter((x) => p.args.includes(x.name)) : pools;
    if (shown.length === 0) {
      io.out('no pools available\n');
      return 0;
    }
    const names = (valuesOf(p, 'o').join(',') || POOL_COLUMN_NAMES.join(',')).split(',');
    const idx = names.map((n) => {
      const i = POOL_COLUMN_NAMES.indexOf(POOL_ALIASES[n] ?? n);
      if (i < 0) throw new UsageError(`invalid property '${n}'`);
      return i;
    });
    const rows = shown.map((s) => poolRow(s, p.flags.has('p')));
    io.out(
      table(
        idx.map((i) => POOL_COLUMNS[i]),
        rows.map((r) => idx.map((i) => r[i])),
        p.flags.has('H'),
      ),
    );
    return 0;
  },
  status: async (argv, call, io) => {
    const p = getopt(argv, '');
    const all = await call<PoolView[]>('pool-status', {});
    for (const n of p.args) if (!all.some((x) => x.name === n)) throw new Error(`cannot open '${n}': no such pool`);
    const shown = p.args.length > 0 ? all.filter((x) => p.args.includes(x.name)) : all;
    if (shown.length === 0) {
      io.out('no pools available\n');
      return 0;
    }
    io.out(shown.map((s) => statusText(s)).join('\n'));
    return 0;
  },
  scrub: async (argv, call) => {
    const p = getopt(argv, 'w');
    if (p.args.length === 0) throw new UsageError('missing pool name argument');
    for (const name of p.args) await call('pool-scrub', { name });
    if (!p.flags.has('w')) return 0;
    for (const name of p.args) {
      for (;;) {
        const [s] = await call<PoolView[]>('pool-status', { name });
        if (!s.scanProgress) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return 0;
  },
};

// zprop_width: numbers at least 5 wide, health 8, all right-aligned but NAME and ALTROOT.
const POOL_COLUMNS: Column[] = [
  { header: 'NAME' },
  { header: 'SIZE', right: true, min: 5 },
  { header: 'ALLOC', right: true, min: 5 },
  { header: 'FREE', right: true, min: 5 },
  { header: 'CKPOINT', right: true, min: 5 },
  { header: 'EXPANDSZ', right: true, min: 5 },
  { header: 'FRAG', right: true, min: 5 },
  { header: 'CAP', right: true, min: 5 },
  { header: 'DEDUP', right: true, min: 5 },
  { header: 'HEALTH', right: true, min: 8 },
  { header: 'ALTROOT' },
];

const POOL_COLUMN_NAMES = [
  'name',
  'size',
  'alloc',
  'free',
  'ckpoint',
  'expandsz',
  'frag',
  'cap',
  'dedup',
  'health',
  'altroot',
];
const POOL_ALIASES: Record<string, string> = {
  allocated: 'alloc',
  checkpoint: 'ckpoint',
  fragmentation: 'frag',
  capacity: 'cap',
  dedupratio: 'dedup',
};

function poolRow(s: PoolView, exact: boolean): string[] {
  const size = (n: number) => (exact ? String(n) : nicebytes(n));
  const cap = s.size === 0 ? 0 : Math.floor((s.allocated * 100) / s.size);
  return [
    s.name,
    size(s.size),
    size(s.allocated),
    size(s.free),
    '-',
    '-',
    exact ? '0' : '0%',
    exact ? String(cap) : `${cap}%`,
    exact ? '1.00' : '1.00x',
    s.health,
    '-',
  ];
}

/** zpool status: pool, state, scan line, the config tree, errors. */
export function statusText(s: PoolView): string {
  const lines = [`  pool: ${s.name}`, ` state: ${s.health}`];
  const scan = scanLines(s);
  if (scan) lines.push(`  scan: ${scan[0]}`, ...scan.slice(1).map((l) => `\t${l}`));
  lines.push('config:', '');
  const rows: Array<[number, string, string, number, number, number]> = [];
  const rootState = s.health === 'SUSPENDED' ? 'SUSPENDED' : s.health;
  const sum = (k: 'readErrors' | 'writeErrors' | 'checksumErrors') => s.vdevs.reduce((n, v) => n + v[k], 0);
  rows.push([0, s.name, rootState, sum('readErrors'), sum('writeErrors'), sum('checksumErrors')]);
  const walk = (v: VdevStatus, depth: number) => {
    rows.push([depth, v.path, v.state, v.readErrors, v.writeErrors, v.checksumErrors]);
    for (const c of v.children ?? []) walk(c, depth + 2);
  };
  for (const v of s.vdevs) walk(v, 2);
  const namewidth = Math.max(10, ...rows.map(([d, n]) => d + n.length));
  lines.push(
    `\t${'NAME'.padEnd(namewidth)}  ${'STATE'.padEnd(8)} ${'READ'.padStart(5)} ${'WRITE'.padStart(5)} ${'CKSUM'.padStart(5)}`,
  );
  for (const [d, name, state, r, w, c] of rows)
    lines.push(
      `\t${' '.repeat(d)}${name.padEnd(namewidth - d)}  ${state.padEnd(8)} ${String(r).padStart(5)} ${String(w).padStart(5)} ${String(c).padStart(5)}`,
    );
  lines.push('');
  lines.push(
    s.dataErrors === 0 ? 'errors: No known data errors' : `errors: ${s.dataErrors} data errors, use '-v' for a list`,
  );
  return `${lines.join('\n')}\n`;
}

function scanLines(s: PoolView): string[] | undefined {
  const live = s.scanProgress;
  if (live) {
    const pct = live.totalBytes === 0 ? 0 : (live.examinedBytes * 100) / live.totalBytes;
    const secs = Math.max(0.001, (Date.now() - live.startedAt) / 1000);
    return [
      `scrub in progress since ${ctime(live.startedAt)}`,
      `${nicebytes(live.examinedBytes)} / ${nicebytes(live.totalBytes)} scanned at ${nicebytes(Math.round(live.examinedBytes / secs))}/s`,
      `0B repaired, ${pct.toFixed(2)}% done`,
    ];
  }
  const scan = s.scan;
  if (!scan || scan.state !== 'finished') return undefined;
  const took = elapsed((scan.endedAt ?? scan.startedAt) - scan.startedAt);
  return [
    `scrub repaired ${nicebytes(scan.repairedBytes)} in ${took} with ${scan.unrecoverable} errors on ${ctime(scan.endedAt ?? scan.startedAt)}`,
  ];
}
