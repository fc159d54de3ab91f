// An HVM domain's disks and NICs, read from its XenStore device dirs as the toolstack wrote them and the
// driver domains completed them. Nothing is written: with no PV drivers in the guest, the frontend dirs stay
// in state 1 (Initialising), as Xen shows an HVM guest that has none. A VBD is reached through its
// backend's NBD export (`nbd-socket`, else `nbd-export`, docs/device-keys.md), a VIF through its backend's
// datagram port on the bridge (`dgram-endpoint`, host:port; see hvm/README.md).
import type { VifSpec } from '@dominion/xlcfg';
import { GuestError } from '../errors.js';
import type { HvmDisk, HvmNic, NbdServer } from './qemu-args.js';

export interface DeviceStore {
  tryRead(path: string): Promise<string | undefined>;
  directory(path: string): Promise<string[]>;
}

type Logger = (level: 'info' | 'warn', msg: string) => void;

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function children(store: DeviceStore, path: string): Promise<string[]> {
  try {
    return (await store.directory(path)).filter((n) => /^[0-9]+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

/** Waits (bounded) for a backend key; a backend that failed the device (state 5/6 with an error) ends it. */
async function backendKey(
  store: DeviceStore,
  backend: string,
  keys: string[],
  waitMs: number,
  /** The backend publishes its keys with InitWait: past it without them, it never will. */
  absentAfterInitWait = false,
): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const values = await Promise.all(keys.map((k) => store.tryRead(`${backend}/${k}`)));
    if (values[0] !== undefined && values[0] !== '') return values.map((v) => v ?? '');
    const state = await store.tryRead(`${backend}/state`);
    if (absentAfterInitWait && (state === '2' || state === '4'))
      throw new GuestError('ENOENT', `${backend}: the backend published no ${keys[0]} with InitWait`);
    if (state === '5' || state === '6') {
      // xenbus_dev_fatal writes the error under the backend domain's error/ dir
      const m = /^(\/local\/domain\/[0-9]+)\/(backend\/.*)$/.exec(backend);
      const err = m ? await store.tryRead(`${m[1]}/error/${m[2]}/error`) : undefined;
      throw new GuestError(
        'ENOENT',
        `${backend}: the backend failed the device (state ${state})${err ? `: ${err}` : ''}`,
      );
    }
    if (Date.now() > deadline)
      throw new GuestError(
        'ENOENT',
        `${backend}: no ${keys[0]} within ${waitMs / 1000} s (is its driver domain running?)`,
      );
    await sleep(POLL_MS);
  }
}

/** `nbd://host:port/name` → its server and export name. */
export function parseNbdUri(uri: string): { host: string; port: number; export: string } {
  const m = /^nbd:\/\/([0-9.]+|\[[0-9a-f:]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?\/(.*)$/.exec(uri);
  if (!m) throw new GuestError('EINVAL', `nbd-export "${uri}" is not an nbd://host[:port]/name URI`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 10809, export: decodeURIComponent(m[3]) };
}

export async function hvmDisks(store: DeviceStore, home: string, waitMs: number): Promise<HvmDisk[]> {
  const disks: HvmDisk[] = [];
  for (const id of await children(store, `${home}/device/vbd`)) {
    const fe = `${home}/device/vbd/${id}`;
    const backend = await store.tryRead(`${fe}/backend`);
    if (!backend) throw new GuestError('ENOENT', `${fe}/backend is missing`);
    const [uri, socket] = await backendKey(store, backend, ['nbd-export', 'nbd-socket'], waitMs);
    const vdev = (await store.tryRead(`${backend}/dev`)) ?? '';
    if (!vdev) throw new GuestError('ENOENT', `${backend}/dev (the vdev) is missing`);
    const mode = await store.tryRead(`${backend}/mode`);
    const cdrom = (await store.tryRead(`${fe}/device-type`)) === 'cdrom';
    const nbd = parseNbdUri(uri);
    const server: NbdServer = socket
      ? { type: 'unix', path: socket }
      : { type: 'inet', host: nbd.host, port: nbd.port };
    disks.push({ vdev, devid: Number(id), cdrom, readOnly: mode === 'r', server, export: nbd.export });
  }
  return disks;
}

export async function hvmNics(
  store: DeviceStore,
  home: string,
  vifs: readonly VifSpec[],
  waitMs: number,
  log: Logger,
): Promise<HvmNic[]> {
  const nics: HvmNic[] = [];
  for (const id of await children(store, `${home}/device/vif`)) {
    const fe = `${home}/device/vif/${id}`;
    const backend = await store.tryRead(`${fe}/backend`);
    if (!backend) throw new GuestError('ENOENT', `${fe}/backend is missing`);
    const mac = (await store.tryRead(`${backend}/mac`)) ?? (await store.tryRead(`${fe}/mac`));
    if (!mac) throw new GuestError('ENOENT', `${backend}/mac is missing`);
    let endpoint: string;
    try {
      [endpoint] = await backendKey(store, backend, ['dgram-endpoint'], waitMs, true);
    } catch (e) {
      // the NIC is left out rather than the domain failed: the VM boots without it
      log('warn', `vif ${id}: left out of the VM: ${(e as Error).message}`);
      continue;
    }
    const m = /^([0-9.]+):([0-9]{1,5})$/.exec(endpoint);
    if (!m) throw new GuestError('EINVAL', `${backend}/dgram-endpoint "${endpoint}" is not ipv4:port`);
    const spec = vifs.find((v) => v.devid === Number(id));
    nics.push({ devid: Number(id), mac, model: spec?.model ?? 'rtl8139', remote: { host: m[1], port: Number(m[2]) } });
  }
  return nics;
}
