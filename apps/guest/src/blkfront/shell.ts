// The minios shell's block commands, with the output of the Linux tools they imitate:
//   lsblk                      util-linux's default columns NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
//   dd if= of= bs= count= seek= skip= conv=fsync
//                              GNU dd's operands and its three closing lines; if= a disk, /dev/zero or
//                              /dev/urandom; of= a disk or /dev/null
//   sha256sum /dev/xvdX [RANGE]
//                              GNU sha256sum's line for a range of the disk; RANGE is LENGTH (from the
//                              start) or OFFSET+LENGTH, in bytes with dd's suffixes (K, M, G, kB, MB, b ...):
//                              `sha256sum /dev/xvda 1M`, `sha256sum /dev/xvda 4K+64K`. Default: the whole disk.
//   blkstat                    Dominion's: per disk, the handshakes that reached Connected, the requests
//                              re-issued after a backend restart and those in flight (what proves a driver
//                              domain died under load rather than idle)
import { createHash, randomFillSync } from 'node:crypto';
import { readBytes, writeBytes, type BlockDevice, type BlockDevices } from './block-device.js';
import { ddTransferLine, lsblkSize, parseDdNumber } from './format.js';

export type ShellOut = (line: string) => void;

export const BLOCK_COMMANDS_HELP: Array<[string, string]> = [
  ['lsblk', 'the block devices'],
  ['dd if= of= [bs= count= seek= skip= conv=fsync]', 'copies blocks (disks, /dev/zero, /dev/urandom, /dev/null)'],
  ['sha256sum /dev/xvdX [[OFF+]LEN]', 'SHA-256 of a disk or of LEN bytes at OFF'],
  ['blkstat', 'per disk: connects, re-issued and in-flight requests'],
];

const STRERROR: Record<string, string> = {
  EIO: 'Input/output error',
  ENOSPC: 'No space left on device',
  EINVAL: 'Invalid argument',
  ENOENT: 'No such file or directory',
  EOPNOTSUPP: 'Operation not supported',
  ESHUTDOWN: 'Cannot send after transport endpoint shutdown',
};

/** The strerror() text of an error's errno kind (EIO for anything without one). */
export function strerror(e: unknown): string {
  const kind = (e as { kind?: unknown } | null)?.kind;
  return STRERROR[typeof kind === 'string' ? kind : 'EIO'] ?? STRERROR.EIO;
}

function device(block: BlockDevices | undefined, path: string): BlockDevice | undefined {
  return path.startsWith('/dev/') ? block?.get(path) : undefined;
}

export function lsblk(block: BlockDevices | undefined, out: ShellOut): void {
  const rows: string[][] = [['NAME', 'MAJ:MIN', 'RM', 'SIZE', 'RO', 'TYPE', 'MOUNTPOINTS']];
  for (const d of block?.list() ?? []) {
    rows.push([
      d.name,
      // lsblk's "%3u:%-3u", which lines the colons up.
      `${String(d.major).padStart(3)}:${String(d.minor).padEnd(3)}`,
      d.removable || d.cdrom ? '1' : '0',
      lsblkSize(d.sectors * 512),
      d.readOnly ? '1' : '0',
      d.cdrom ? 'rom' : 'disk',
      '',
    ]);
  }
  const right = [false, false, true, true, true, false, false];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    out(
      r
        .map((v, c) => (right[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
        .join(' ')
        .trimEnd(),
    );
}

export function blkstat(block: BlockDevices | undefined, out: ShellOut): void {
  const rows = [['NAME', 'CONNECTS', 'REISSUED', 'INFLIGHT']];
  for (const d of block?.list() ?? [])
    rows.push([d.name, String(d.connects ?? 0), String(d.reissued ?? 0), String(d.inFlight ?? 0)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) out(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' '));
}

interface DdArgs {
  if?: string;
  of?: string;
  bs: number;
  count?: number;
  seek: number;
  skip: number;
  fsync: boolean;
}

function parseDd(args: string[]): DdArgs | string {
  const a: DdArgs = { bs: 512, seek: 0, skip: 0, fsync: false };
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) return `unrecognized operand '${arg}'`;
    const key = arg.slice(0, eq);
    const val = arg.slice(eq + 1);
    const num = (): number | string => parseDdNumber(val) ?? `invalid number: '${val}'`;
    switch (key) {
      case 'if':
      case 'of':
        a[key] = val;
        break;
      case 'bs':
      case 'count':
      case 'seek':
      case 'skip': {
        const n = num();
        if (typeof n === 'string') return n;
        if (key === 'bs' && n === 0) return `invalid number: '${val}'`;
        a[key] = n;
        break;
      }
      case 'conv':
        for (const c of val.split(',')) {
          if (c === 'fsync' || c === 'fdatasync') a.fsync = true;
          else if (c !== 'notrunc') return `invalid conversion: '${c}'`;
        }
        break;
      default:
        return `unrecognized operand '${arg}'`;
    }
  }
  return a;
}

type Source = { kind: 'zero' } | { kind: 'urandom' } | { kind: 'disk'; dev: BlockDevice };
type Sink = { kind: 'null' } | { kind: 'disk'; dev: BlockDevice };

export async function dd(block: BlockDevices | undefined, out: ShellOut, args: string[]): Promise<void> {
  const a = parseDd(args);
  if (typeof a === 'string') {
    out(`dd: ${a}`);
    out("Try 'dd --help' for more information.");
    return;
  }
  if (a.if === undefined || a.of === undefined) {
    out(
      `dd: ${a.if === undefined ? 'if=' : 'of='} is required: the console has no ${a.if === undefined ? 'stdin' : 'stdout'}`,
    );
    return;
  }
  let src: Source;
  if (a.if === '/dev/zero') src = { kind: 'zero' };
  else if (a.if === '/dev/urandom' || a.if === '/dev/random') src = { kind: 'urandom' };
  else {
    const dev = device(block, a.if);
    if (!dev) return out(`dd: failed to open '${a.if}': No such file or directory`);
    src = { kind: 'disk', dev };
  }
  let dst: Sink;
  if (a.of === '/dev/null') dst = { kind: 'null' };
  else {
    const dev = device(block, a.of);
    if (!dev) return out(`dd: failed to open '${a.of}': No such file or directory`);
    dst = { kind: 'disk', dev };
  }

  const stats = { fullIn: 0, partIn: 0, fullOut: 0, partOut: 0, bytes: 0 };
  const started = process.hrtime.bigint();
  let inPos = a.skip * a.bs;
  let outPos = a.seek * a.bs;
  const inSize = src.kind === 'disk' ? src.dev.sectors * 512 : Infinity;
  const outSize = dst.kind === 'disk' ? dst.dev.sectors * 512 : Infinity;
  if (inPos > inSize) out(`dd: '${a.if}': cannot skip to specified offset`);
  for (let i = 0; a.count === undefined || i < a.count; i++) {
    const n = Math.min(a.bs, inSize - inPos);
    if (n <= 0) break;
    let data: Uint8Array;
    if (src.kind === 'disk') {
      try {
        data = await readBytes(src.dev, inPos, n);
      } catch (e) {
        out(`dd: error reading '${a.if}': ${strerror(e)}`);
        break;
      }
    } else {
      data = new Uint8Array(n);
      if (src.kind === 'urandom') randomFillSync(data);
    }
    inPos += n;
    if (n === a.bs) stats.fullIn++;
    else stats.partIn++;
    const w = Math.min(n, outSize - outPos);
    if (w > 0 && dst.kind === 'disk') {
      try {
        await writeBytes(dst.dev, outPos, data.subarray(0, w));
      } catch (e) {
        out(`dd: error writing '${a.of}': ${strerror(e)}`);
        break;
      }
    }
    if (w > 0) {
      outPos += w;
      stats.bytes += w;
      if (w === a.bs) stats.fullOut++;
      else stats.partOut++;
    }
    if (w < n) {
      out(`dd: error writing '${a.of}': No space left on device`);
      break;
    }
  }
  if (a.fsync && dst.kind === 'disk') {
    try {
      await dst.dev.flush();
    } catch (e) {
      out(`dd: fsync failed for '${a.of}': ${strerror(e)}`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  out(`${stats.fullIn}+${stats.partIn} records in`);
  out(`${stats.fullOut}+${stats.partOut} records out`);
  out(ddTransferLine(stats.bytes, seconds));
}

/** Bytes hashed per read. */
const HASH_CHUNK = 1 << 20;

export async function sha256sum(block: BlockDevices | undefined, out: ShellOut, args: string[]): Promise<void> {
  if (args.length < 1 || args.length > 2) return out('Usage: sha256sum /dev/xvdX [[OFFSET+]LENGTH]');
  const [path, range] = args;
  const dev = device(block, path);
  if (!dev) return out(`sha256sum: ${path}: No such file or directory`);
  const size = dev.sectors * 512;
  let offset = 0;
  let length = size;
  if (range !== undefined) {
    const parts = range.split('+');
    const nums = parts.map(parseDdNumber);
    if (parts.length > 2 || nums.some((n) => n === undefined))
      return out(`sha256sum: ${range}: not a range (LENGTH or OFFSET+LENGTH, with dd's suffixes)`);
    [offset, length] = nums.length === 2 ? (nums as [number, number]) : [0, nums[0]!];
  }
  if (offset + length > size)
    return out(`sha256sum: ${path}: range ${offset}+${length} is past the end of the device (${size} bytes)`);
  const h = createHash('sha256');
  try {
    for (let at = offset; at < offset + length; at += HASH_CHUNK)
      h.update(await readBytes(dev, at, Math.min(HASH_CHUNK, offset + length - at)));
  } catch (e) {
    return out(`sha256sum: ${path}: ${strerror(e)}`);
  }
  out(`${h.digest('hex')}  ${path}`);
}
