// `zfs`: the dataset front end, OpenZFS's verbs, options, columns and messages, over the ZFS domain's API.
import type { DatasetRow } from '../admin-api.js';
import { ctime, nicebytes, table, type Column } from './format.js';
import { getopt, UsageError, valuesOf, type Parsed } from './getopt.js';
import { messageOf, writeAll, type CliIo, type ZfsCall } from './io.js';

const USAGE = `usage: zfs command args ...
where 'command' is one of the following:

	create [-s] [-b blocksize] [-o property=value] ... -V <size> <volume>
	create [-o property=value] ... <filesystem>
	destroy <filesystem|volume|snapshot>
	snapshot <filesystem|volume>@<snap> ...
	rollback <snapshot>
	clone [-o property=value] ... <snapshot> <filesystem|volume>
	promote <clone-filesystem>
	list [-Hpr] [-o property[,...]] [-t type[,...]] [filesystem|volume|snapshot] ...
	get [-Hp] [-o "all" | field[,...]] <"all" | property[,...]> [filesystem|volume|snapshot] ...
	set <property=value> ... <filesystem|volume>
	inherit <property> <filesystem|volume> ...
	send [-v] [-i snapshot] <snapshot>
	receive [-v] <filesystem|volume>
`;

/** Runs one zfs command line; resolves the exit status (0, 1 on failure, 2 on bad usage). */
export async function runZfs(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  const cmd = verb === undefined ? undefined : COMMANDS[verb === 'recv' ? 'receive' : verb];
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

function props(p: Parsed): Record<string, string> | undefined {
  const list = valuesOf(p, 'o');
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`missing '=' for property=value argument`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function args(p: Parsed, n: number, what: string): string[] {
  if (p.args.length < n) throw new UsageError(`missing ${what} argument`);
  if (p.args.length > n) throw new UsageError('too many arguments');
  return p.args;
}

const COMMANDS: Record<string, Command> = {
  create: async (argv, call) => {
    const p = getopt(argv, 'sV:b:o:');
    const [name] = args(p, 1, 'filesystem');
    const volsize = valuesOf(p, 'V').at(-1);
    const bs = valuesOf(p, 'b').at(-1);
    if (volsize === undefined && (p.flags.has('s') || bs !== undefined))
      throw new UsageError("'-s' and '-b' can only be used when creating a volume");
    await call('create', {
      name,
      props: props(p),
      ...(volsize !== undefined && { volsize, sparse: p.flags.has('s') }),
      ...(bs !== undefined && { volblocksize: bs }),
    });
    return 0;
  },
  destroy: async (argv, call) => {
    const p = getopt(argv, 'rR');
    const [name] = args(p, 1, 'dataset');
    if (p.flags.has('r') || p.flags.has('R'))
      throw new Error(`cannot destroy '${name}': -r and -R are not supported yet`);
    await call('destroy', { name });
    return 0;
  },
  snapshot: async (argv, call) => {
    const p = getopt(argv, 'r');
    if (p.args.length === 0) throw new UsageError('missing snapshot argument');
    if (p.flags.has('r')) throw new Error('cannot create snapshots: -r is not supported yet');
    for (const n of p.args)
      if (!n.includes('@')) throw new Error(`cannot create snapshot '${n}': missing '@' delimiter in snapshot name`);
    await call('snapshot', { names: p.args });
    return 0;
  },
  rollback: async (argv, call) => {
    const p = getopt(argv, 'r');
    const [name] = args(p, 1, 'dataset');
    if (p.flags.has('r')) throw new Error(`cannot rollback to '${name}': -r is not supported yet`);
    if (!name.includes('@')) throw new Error(`cannot rollback '${name}': not a snapshot`);
    await call('rollback', { name });
    return 0;
  },
  clone: async (argv, call) => {
    const p = getopt(argv, 'o:');
    const [snapshot, name] = args(p, 2, 'source or target');
    await call('clone', { snapshot, name, props: props(p) });
    return 0;
  },
  promote: async (argv, call) => {
    const [name] = args(getopt(argv, ''), 1, 'clone filesystem');
    await call('promote', { name });
    return 0;
  },
  list: (argv, call, io) => list(argv, call, io),
  get: (argv, call, io) => get(argv, call, io),
  set: async (argv, call) => {
    const p = getopt(argv, '');
    if (p.args.length < 2) throw new UsageError('missing dataset name');
    const name = p.args[p.args.length - 1];
    const kvs: Record<string, string> = {};
    for (const kv of p.args.slice(0, -1)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`missing '=' for property=value argument`);
      kvs[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    await call('set', { name, props: kvs });
    return 0;
  },
  inherit: async (argv, call) => {
    const p = getopt(argv, '');
    if (p.args.length < 2) throw new UsageError('missing dataset argument');
    const [property, ...names] = p.args;
    for (const name of names) await call('inherit', { name, property });
    return 0;
  },
  send: (argv, call, io) => send(argv, call, io),
  receive: (argv, call, io) => receive(argv, call, io),
};

interface ListColumn extends Column {
  value(d: DatasetRow, exact: boolean): string;
}

const size = (n: number | undefined, exact: boolean) => (n === undefined ? '-' : exact ? String(n) : nicebytes(n));

const LIST_COLUMNS: Record<string, ListColumn> = {
  name: { header: 'NAME', value: (d) => d.name },
  type: { header: 'TYPE', value: (d) => d.type },
  used: { header: 'USED', right: true, min: 5, value: (d, x) => size(d.used, x) },
  avail: {
    header: 'AVAIL',
    right: true,
    min: 5,
    value: (d, x) => (d.type === 'snapshot' ? '-' : size(d.available, x)),
  },
  refer: { header: 'REFER', right: true, min: 5, value: (d, x) => size(d.referenced, x) },
  mountpoint: { header: 'MOUNTPOINT', value: (d) => d.mountpoint },
  volsize: { header: 'VOLSIZE', right: true, min: 5, value: (d, x) => size(d.volsize, x) },
  volblocksize: { header: 'VOLBLOCK', right: true, min: 5, value: (d, x) => size(d.volblocksize, x) },
  usedsnap: {
    header: 'USEDSNAP',
    right: true,
    min: 5,
    value: (d, x) => (d.type === 'snapshot' ? '-' : size(d.usedbysnapshots, x)),
  },
  origin: { header: 'ORIGIN', value: (d) => d.origin ?? '-' },
  ratio: { header: 'RATIO', right: true, min: 5, value: (d) => `${d.compressratio.toFixed(2)}x` },
  creation: {
    header: 'CREATION',
    value: (d, x) => (x ? String(Math.floor(d.creation / 1000)) : creationText(d.creation)),
  },
  compression: { header: 'COMPRESS', value: (d) => d.compression ?? '-' },
  checksum: { header: 'CHECKSUM', value: (d) => d.checksum ?? '-' },
};
const ALIASES: Record<string, string> = {
  available: 'avail',
  referenced: 'refer',
  usedbysnapshots: 'usedsnap',
  compressratio: 'ratio',
  volblock: 'volblocksize',
};

/** zfs's creation format: "%a %b %e %k:%M %Y". */
function creationText(ms: number): string {
  const c = ctime(ms); // "Wed Nov 25 12:00:00 2026"
  const [dow, mon, day, time, year] = c.split(/\s+/);
  const [hh, mm] = time.split(':');
  return `${dow} ${mon} ${day.padStart(2)} ${String(Number(hh)).padStart(2)}:${mm} ${year}`;
}

async function list(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const p = getopt(argv, 'Hpro:t:');
  const cols = (valuesOf(p, 'o').join(',') || 'name,used,avail,refer,mountpoint').split(',').map((c) => {
    const col = LIST_COLUMNS[ALIASES[c] ?? c];
    if (!col) throw new UsageError(`invalid property '${c}'`);
    return col;
  });
  let types = valuesOf(p, 't')
    .join(',')
    .split(',')
    .filter((t) => t !== '');
  if (types.includes('all')) types = ['filesystem', 'volume', 'snapshot'];
  types = types.map((t) => (t === 'snap' ? 'snapshot' : t === 'fs' ? 'filesystem' : t === 'vol' ? 'volume' : t));
  for (const t of types)
    if (!['filesystem', 'volume', 'snapshot'].includes(t)) throw new UsageError(`invalid type '${t}'`);
  // Naming a snapshot lists it; otherwise snapshots only with -t (zfs's listsnapshots=off).
  const named = p.args.length > 0;
  const wantTypes = types.length > 0 ? types : named ? undefined : ['filesystem', 'volume'];
  const rows = await call<DatasetRow[]>('list', {
    ...(named && { names: p.args, recursive: p.flags.has('r') }),
    ...(wantTypes && { types: wantTypes }),
  });
  const exact = p.flags.has('p');
  const scripted = p.flags.has('H');
  if (rows.length === 0) {
    if (!scripted && !named) io.out('no datasets available\n');
    return 0;
  }
  io.out(
    table(
      cols,
      rows.map((d) => cols.map((c) => c.value(d, exact))),
      scripted,
    ),
  );
  return 0;
}

const SIZE_PROPS = new Set([
  'used',
  'available',
  'referenced',
  'logicalreferenced',
  'usedbysnapshots',
  'usedbydataset',
  'usedbychildren',
  'usedbyrefreservation',
  'volsize',
  'volblocksize',
  'quota',
  'refquota',
  'reservation',
  'refreservation',
]);

function propText(property: string, value: string, exact: boolean): string {
  if (property === 'creation') return exact ? String(Math.floor(Number(value) / 1000)) : creationText(Number(value));
  if (exact && property.endsWith('compressratio')) return value.replace(/x$/, '');
  if (exact || !SIZE_PROPS.has(property) || !/^[0-9]+$/.test(value)) return value;
  return nicebytes(Number(value));
}

async function get(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const p = getopt(argv, 'Hpo:');
  if (p.args.length === 0) throw new UsageError('missing property argument');
  const [propList, ...given] = p.args;
  const fields = (valuesOf(p, 'o').join(',') || 'name,property,value,source').split(',');
  const cols: Record<string, Column> = {
    name: { header: 'NAME' },
    property: { header: 'PROPERTY' },
    value: { header: 'VALUE' },
    source: { header: 'SOURCE' },
  };
  if (fields.includes('all')) fields.splice(0, fields.length, 'name', 'property', 'value', 'source');
  for (const f of fields) if (!cols[f]) throw new UsageError(`invalid field '${f}'`);
  const names = given.length > 0 ? given : (await call<DatasetRow[]>('list', {})).map((d) => d.name);
  if (names.length === 0) return 0;
  const values = await call<Array<{ name: string; property: string; value: string; source: string }>>('get', {
    names,
    properties: propList.split(','),
  });
  const exact = p.flags.has('p');
  const rows = values.map((v) => {
    const cell: Record<string, string> = { ...v, value: propText(v.property, v.value, exact) };
    return fields.map((f) => cell[f]);
  });
  io.out(
    table(
      fields.map((f) => cols[f]),
      rows,
      p.flags.has('H'),
    ),
  );
  return 0;
}

function clock(d = new Date()): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

async function send(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const p = getopt(argv, 'vi:I:');
  const [snapshot] = args(p, 1, 'snapshot');
  const from = [...valuesOf(p, 'i'), ...valuesOf(p, 'I')].at(-1);
  const out = io.stdout;
  if (!out || (out as { isTTY?: boolean }).isTTY) {
    io.err('Error: Stream can not be written to a terminal.\nYou must redirect standard output.\n');
    return 1;
  }
  const verbose = p.flags.has('v');
  const { session } = await call<{ session: string }>('send-open', { snapshot, ...(from && { from }) });
  if (verbose) {
    io.err(from ? `send from ${from} to ${snapshot}\n` : `full send of ${snapshot}\n`);
    io.err('TIME        SENT   SNAPSHOT\n');
  }
  let last = 0;
  for (;;) {
    const r = await call<{ data: string; bytes: number; done: boolean }>('send-next', { session });
    await writeAll(out, Buffer.from(r.data, 'base64'));
    // Once a second, as zfs send -v does.
    if (verbose && (Date.now() - last >= 1000 || r.done)) {
      last = Date.now();
      io.err(`${clock()}   ${nicebytes(r.bytes).padStart(5)}   ${snapshot}\n`);
    }
    if (r.done) return 0;
  }
}

async function receive(argv: readonly string[], call: ZfsCall, io: CliIo): Promise<number> {
  const p = getopt(argv, 'v');
  const [target] = args(p, 1, 'snapshot');
  const input = io.stdin;
  if (!input || (input as { isTTY?: boolean }).isTTY) {
    io.err('Error: Backup stream can not be read from a terminal.\nYou must redirect standard input.\n');
    return 1;
  }
  const started = Date.now();
  const { session } = await call<{ session: string }>('receive-open', { target });
  let pending: Buffer = Buffer.alloc(0);
  const CHUNK = 256 * 1024;
  for await (const c of input as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? c : Buffer.concat([pending, c]);
    while (pending.length >= CHUNK) {
      await call('receive-chunk', { session, data: pending.subarray(0, CHUNK).toString('base64') });
      pending = pending.subarray(CHUNK);
    }
  }
  if (pending.length > 0) await call('receive-chunk', { session, data: pending.toString('base64') });
  const r = await call<{ snapshot: string; bytes: number }>('receive-end', { session });
  if (p.flags.has('v')) {
    const secs = Math.max(1, Math.round((Date.now() - started) / 1000));
    io.err(`receiving stream into ${r.snapshot}\n`);
    io.err(`received ${nicebytes(r.bytes)} stream in ${secs} seconds (${nicebytes(Math.round(r.bytes / secs))}/sec)\n`);
  }
  return 0;
}
