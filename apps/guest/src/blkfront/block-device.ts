// What a guest kernel sees of a virtual disk. Sector numbers and counts are 512-byte units, as blkif's
// sector fields are whatever the disk's sector-size; offsets and lengths must be multiples of sectorSize.
// While the backend is away (a driver domain restarting) I/O waits; it fails only when the disk is
// detached, the range is bad, or the backend answers with an error.
export interface BlockDevice {
  /** xvda, xvdb, ... (from the device number, as Linux's blkfront names it). */
  readonly name: string;
  /** The device number (`virtual-device`): xvda = 51712. */
  readonly devid: number;
  readonly major: number;
  readonly minor: number;
  /** Size in 512-byte sectors (`sectors`). */
  readonly sectors: number;
  /** `sector-size`: 512 or 4096. */
  readonly sectorSize: number;
  /** VDISK_READONLY in `info`: writes are refused by the backend. */
  readonly readOnly: boolean;
  /** VDISK_REMOVABLE or VDISK_CDROM in `info`. */
  readonly removable: boolean;
  readonly cdrom: boolean;
  /** Times the handshake reached Connected, requests re-issued after a backend restart, requests in flight. */
  readonly connects?: number;
  readonly reissued?: number;
  readonly inFlight?: number;
  read(sector: number, count: number): Promise<Uint8Array>;
  write(sector: number, data: Uint8Array): Promise<void>;
  /** Every write that completed before the call is durable once this resolves. */
  flush(): Promise<void>;
  /** Tells the backend the range is unused (feature-discard); EOPNOTSUPP if it does not offer it. */
  discard(sector: number, count: number): Promise<void>;
}

/** The block devices of a guest, for kernels. */
export interface BlockDevices {
  /** The disks that are connected (or were, and are reconnecting), by device number. */
  list(): BlockDevice[];
  /** By name (`xvda`) or path (`/dev/xvda`). */
  get(name: string): BlockDevice | undefined;
}

export const SECTOR = 512;

/** `length` bytes at byte `offset`, whatever their alignment (the covering sectors are read). */
export async function readBytes(dev: BlockDevice, offset: number, length: number): Promise<Uint8Array> {
  const a = dev.sectorSize;
  const start = Math.floor(offset / a) * a;
  const end = Math.ceil((offset + length) / a) * a;
  if (end === start) return new Uint8Array(0);
  const buf = await dev.read(start / SECTOR, (end - start) / SECTOR);
  return buf.subarray(offset - start, offset - start + length);
}

/** Writes `data` at byte `offset`; a partial sector at either end is read, patched and written back. */
export async function writeBytes(dev: BlockDevice, offset: number, data: Uint8Array): Promise<void> {
  const a = dev.sectorSize;
  const start = Math.floor(offset / a) * a;
  const end = Math.ceil((offset + data.length) / a) * a;
  if (start === offset && end === offset + data.length) return dev.write(start / SECTOR, data);
  const buf = new Uint8Array(await readBytes(dev, start, end - start));
  buf.set(data, offset - start);
  return dev.write(start / SECTOR, buf);
}
