// The vbd backends of this driver domain: libs/xenbus's XenbusBackendDir over
// /local/domain/<me>/backend/vbd, as Linux blkback's xenbus.c with the block hotplug script folded in:
//   probe      resolve `params` (target.ts), claim the target (target-claims.ts), open it as a RawFileBackend
//              (created sparse with `size` if missing) or, for `zvol:<pool>/<vol>` (or /dev/zvol/…), as a
//              ZvolBackend on the ZFS domain's block service (zfs-domain.ts); start its VbdServer and NBD
//              export; publish vbdProbeKeys, grpc-endpoint, nbd-export, nbd-socket and
//              hotplug-status=connected with InitWait.
//              A failure is xenbus_dev_fatal: "<errno> <message>" in the error node, state Closing.
//   connect    read the frontend's ring-ref(s), event-channel(s) and protocol (readRingTransport), publish
//              vbdConnectKeys (sectors, info, sector-size, features) with Connected.
//   disconnect forget the transport and end the device's ring streams; once the device itself is gone
//              (removed, or blkback stopping) close its export and disk and release the target.
// authorize() is the ring service's check of a stream against this table.
import { posix } from 'node:path';
import { XEN_ERRNO, type DomId, type EvtchnPort } from '@dominion/abi';
import {
  BLKIF_RSP,
  XEN_IO_PROTO_ABI,
  blkifResponse,
  blkifRingCodec,
  blkifRingSize,
  parseProtocol,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { errnoOf, messageOf } from '@dominion/bus';
import type { FileIO } from '@dominion/fsio';
import type { RingAccept, RingService, RingStreamHello } from '@dominion/ringstream';
import { RawFileBackend, VbdServer, vbdConnectKeys, vbdProbeKeys, type BlockBackend } from '@dominion/vbd';
import { ZvolBackend, parseZvolTarget } from '@dominion/zvol';
import {
  XENBUS_KEYS,
  XenbusBackendDir,
  XenbusKeyReader,
  errorPath,
  readRingTransport,
  type RingTransport,
  type XenbusDevice,
  type XenbusKeys,
  type XenbusLogger,
  type XenbusStore,
} from '@dominion/xenbus';
import { BlockNbdExport } from './block-nbd-export.js';
import type { BlkbackConfig } from './config.js';
import type { DomainChecks, DomainOracle } from './domain-checks.js';
import { BlkbackError } from './errors.js';
import type { NbdEndpoint, NbdServers } from './nbd-servers.js';
import { TargetClaims } from './target-claims.js';
import { parseImageSize, resolveTarget } from './target.js';
import { ZfsDomainLocator } from './zfs-domain.js';

/** Keys Dominion adds (docs/device-keys.md). */
export const DOMINION_VBD_KEYS = {
  GRPC_ENDPOINT: 'grpc-endpoint',
  NBD_EXPORT: 'nbd-export',
  NBD_SOCKET: 'nbd-socket',
  /** Bytes (or K/M/G/T) of an image created on demand; written by the toolstack. */
  SIZE: 'size',
} as const;

const PROTOCOLS = Object.values(XEN_IO_PROTO_ABI);

export interface VbdDevice {
  path: string;
  frontendDomid: DomId;
  devid: number;
  label: string;
  /** The image's real path, or `zvol:<name>`: the key of its claim. */
  target: string;
  readOnly: boolean;
  cdrom: boolean;
  removable: boolean;
  disk: BlockBackend;
  server: VbdServer;
  exportName: string;
  nbd: NbdEndpoint;
  exp: BlockNbdExport;
  /** What the frontend wrote, from connect until disconnect: a stream is accepted only meanwhile. */
  transport: RingTransport | undefined;
  /** Our ends of the queues' event channels (bind_interdomain at connect, closed at disconnect). */
  ports: EvtchnPort[];
}

export interface VbdBackendsOptions {
  store: XenbusStore;
  /** /local/domain/<me>/backend/vbd */
  path: string;
  io: FileIO;
  cfg: BlkbackConfig;
  nbd: NbdServers;
  checks: DomainChecks;
  hv: Pick<DomainOracle, 'evtchnBindInterdomain' | 'evtchnClose'>;
  /** host:port published as grpc-endpoint. */
  grpcEndpoint: string;
  ringService: () => RingService | undefined;
  logger: XenbusLogger;
}

export class VbdBackends {
  readonly devices = new Map<string, VbdDevice>();
  readonly claims = new TargetClaims();
  private dir!: XenbusBackendDir<RingTransport>;
  private readonly zfs: ZfsDomainLocator;
  /** Set by quiesce(): requests arriving from then on are left unanswered (re-issued after a restart). */
  private quiescing = false;

  private constructor(private readonly opts: VbdBackendsOptions) {
    this.zfs = new ZfsDomainLocator(opts.store, opts.cfg.zfsDomain);
  }

  static async start(opts: VbdBackendsOptions): Promise<VbdBackends> {
    const b = new VbdBackends(opts);
    b.dir = await XenbusBackendDir.watch<RingTransport>({
      store: opts.store,
      path: opts.path,
      logger: opts.logger,
      device: () => ({
        logger: opts.logger,
        handlers: {
          probe: (dev) => b.probe(dev),
          readFrontend: (r) => b.readFrontend(r),
          connect: (t, dev) => b.connect(t, dev),
          disconnect: (dev, why) => b.disconnect(dev, why),
        },
      }),
    });
    return b;
  }

  settled(): Promise<void> {
    return this.dir.settled();
  }

  /** Requests received and not yet answered, over every VBD. */
  get inFlight(): number {
    let n = 0;
    for (const d of this.devices.values()) n += d.server.inFlight;
    return n;
  }

  /**
   * Stops taking new requests: from now on they are left on the ring unanswered, as a backend going away
   * leaves them; the frontend re-issues them on its next stream. Requests already taken still complete.
   */
  quiesce(): void {
    this.quiescing = true;
  }

  /** Waits (at most `timeoutMs`) for every request taken so far to be answered. */
  async drain(timeoutMs: number): Promise<boolean> {
    const all = Promise.all([...this.devices.values()].map((d) => d.server.drain())).then(() => true);
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref());
    return Promise.race([all, timeout]);
  }

  /** Stops following the devices (writes nothing) and releases every disk, flushed. */
  async stop(): Promise<void> {
    await this.dir?.stop();
    for (const d of [...this.devices.values()]) await this.release(d, 'blkback stopping');
  }

  private async probe(dev: XenbusDevice): Promise<XenbusKeys> {
    const old = this.devices.get(dev.backendPath);
    if (old) await this.release(old, 'probed again');
    try {
      const d = await this.open(dev);
      this.devices.set(dev.backendPath, d);
      return {
        ...vbdProbeKeys({ maxQueues: this.opts.cfg.maxQueues, maxRingPageOrder: this.opts.cfg.maxRingPageOrder }),
        [DOMINION_VBD_KEYS.GRPC_ENDPOINT]: this.opts.grpcEndpoint,
        [DOMINION_VBD_KEYS.NBD_EXPORT]: d.nbd.uri,
        [DOMINION_VBD_KEYS.NBD_SOCKET]: d.nbd.socket,
        'hotplug-status': 'connected',
      };
    } catch (e) {
      await this.fatal(dev, e);
      throw e;
    }
  }

  /** xenbus_dev_fatal at probe: the error node, then Closing (XenbusBackend writes nothing when probe throws). */
  private async fatal(dev: XenbusDevice, e: unknown): Promise<void> {
    const errno = XEN_ERRNO[errnoOf(e)] ?? XEN_ERRNO.EIO;
    const { store } = this.opts;
    this.opts.logger('error', `backend ${dev.backendPath}: ${messageOf(e)}`, { frontendDomid: dev.frontendDomid });
    try {
      await store.transaction(async (tx) => {
        await tx.write(errorPath(dev.backendPath), `${errno} ${messageOf(e)}`);
        await tx.write(`${dev.backendPath}/hotplug-status`, 'error');
        await tx.write(`${dev.backendPath}/${XENBUS_KEYS.STATE}`, '5');
      });
    } catch (w) {
      this.opts.logger('warn', `backend ${dev.backendPath}: could not record the error: ${messageOf(w)}`);
    }
  }

  private async open(dev: XenbusDevice): Promise<VbdDevice> {
    const { cfg, store, io, nbd } = this.opts;
    const r = new XenbusKeyReader(store, dev.backendPath);
    const devid = Number(posix.basename(dev.backendPath));
    const label = `vbd ${dev.frontendDomid}/${devid}`;
    const params = await r.string('params');
    const mode = await r.string('mode');
    const cdrom = (await r.optOneOf('device-type', ['disk', 'cdrom'])) === 'cdrom';
    const removable = (await r.optString('removable')) === '1';
    const sizeText = await r.optString(DOMINION_VBD_KEYS.SIZE);
    // As blkback: read-only unless the mode has a 'w'; a cdrom is never written.
    const volume = zvolOf(params, r.path('params'));
    // A snapshot is never written (the ZFS domain opens it read-only anyway).
    const readOnly = !mode.includes('w') || cdrom || (volume?.includes('@') ?? false);
    const target = volume !== undefined ? `zvol:${volume}` : resolveTarget(params, cfg, r.path('params'));
    const size =
      sizeText === undefined || volume !== undefined
        ? undefined
        : parseImageSize(sizeText, r.path(DOMINION_VBD_KEYS.SIZE));
    this.claims.claim(target, { label, writable: !readOnly });
    let disk: BlockBackend | undefined;
    try {
      if (volume !== undefined) {
        disk = await ZvolBackend.open({
          volume,
          endpoint: () => this.zfs.endpoint(),
          readOnly,
          onDisconnect: (why) => this.opts.logger('warn', `${label}: ${target}: ${why}; dialing again`),
        });
      } else {
        const exists = await io.exists(target);
        if (!exists && size === undefined)
          throw new BlkbackError(
            'EINVAL',
            `${r.path('params')}: image ${target} does not exist and ${r.path('size')} is not set`,
          );
        if (!exists && readOnly)
          throw new BlkbackError('EINVAL', `${r.path('params')}: read-only image ${target} does not exist`);
        disk = await RawFileBackend.open({ io, path: target, size: exists ? undefined : size, readOnly, name: target });
      }
      const server = new VbdServer({
        backend: disk,
        frontendDomid: dev.frontendDomid,
        devid,
        logger: this.opts.logger,
      });
      const exportName = `vbd-${dev.frontendDomid}-${devid}`;
      const exp = new BlockNbdExport(disk, `${label} (${target})`);
      const endpoint = await nbd.add(exportName, exp);
      this.opts.logger('info', `${label}: ${target} (${disk.size} bytes, ${readOnly ? 'read-only' : 'read-write'})`, {
        nbd: endpoint.uri,
      });
      return {
        path: dev.backendPath,
        frontendDomid: dev.frontendDomid,
        devid,
        label,
        target,
        readOnly: readOnly || disk.readOnly,
        cdrom,
        removable,
        disk,
        server,
        exportName,
        nbd: endpoint,
        exp,
        transport: undefined,
        ports: [],
      };
    } catch (e) {
      await disk?.close();
      this.claims.release(target, label);
      throw e;
    }
  }

  private readFrontend(r: XenbusKeyReader): Promise<RingTransport> {
    return readRingTransport(r, {
      maxQueues: this.opts.cfg.maxQueues,
      maxRingPageOrder: this.opts.cfg.maxRingPageOrder,
      protocols: PROTOCOLS,
    });
  }

  private async connect(t: RingTransport, dev: XenbusDevice): Promise<XenbusKeys> {
    const d = this.devices.get(dev.backendPath);
    if (!d) throw new BlkbackError('EINVAL', `backend ${dev.backendPath}: connect before probe`);
    // The event channels are real: bound here as blkback's xen_blkif_map() binds them. A port the frontend
    // did not offer to this domain fails the connect (the hypervisor's error names it).
    for (const q of t.queues) {
      try {
        d.ports.push(await this.opts.hv.evtchnBindInterdomain(dev.frontendDomid, q.eventChannel));
      } catch (e) {
        await this.closePorts(d);
        throw new BlkbackError('EINVAL', `${q.dir}/event-channel: ${messageOf(e)}`);
      }
    }
    d.transport = t;
    return vbdConnectKeys(d.server.properties, { cdrom: d.cdrom, removable: d.removable });
  }

  private async closePorts(d: VbdDevice): Promise<void> {
    for (const port of d.ports.splice(0)) {
      await this.opts.hv
        .evtchnClose(port)
        .catch((e: unknown) => this.opts.logger('warn', `${d.label}: closing event channel ${port}: ${messageOf(e)}`));
    }
  }

  private async disconnect(dev: XenbusDevice, why: string): Promise<void> {
    const d = this.devices.get(dev.backendPath);
    if (!d) return;
    d.transport = undefined;
    this.opts.ringService()?.detach({ device: dev.backendPath }, why);
    await this.closePorts(d);
    // The device itself is gone once the dir no longer lists it (its `done` has run by the next turn).
    setImmediate(() => {
      if (this.devices.get(dev.backendPath) === d && !this.dir.backends.has(dev.backendPath)) void this.release(d, why);
    });
  }

  private async release(d: VbdDevice, why: string): Promise<void> {
    if (this.devices.get(d.path) !== d) return;
    this.devices.delete(d.path);
    d.transport = undefined;
    this.opts.ringService()?.detach({ device: d.path }, why);
    await this.closePorts(d);
    d.exp.close();
    await this.opts.nbd.remove(d.exportName);
    await d.server.drain();
    try {
      if (!d.readOnly) await d.disk.flush();
    } finally {
      await d.disk.close();
      this.claims.release(d.target, d.label);
    }
    this.opts.logger('info', `${d.label}: released ${d.target} (${why})`);
  }

  /** The ring service's check of a stream whose proof verified (ARCHITECTURE §2). */
  async authorize(h: RingStreamHello): Promise<RingAccept<BlkifRequest, BlkifResponse>> {
    const d = this.devices.get(h.device);
    if (!d) throw new BlkbackError('EACCES', `no vbd ${h.device} on this backend`);
    if (d.frontendDomid !== h.frontendDomid)
      throw new BlkbackError('EACCES', `frontend-id of ${h.device} is ${d.frontendDomid}, not ${h.frontendDomid}`);
    const t = d.transport;
    if (!t) throw new BlkbackError('EAGAIN', `${h.device} is not connecting or connected yet`);
    const q = t.queues[h.queue];
    if (!q) throw new BlkbackError('EACCES', `${h.device} has ${t.queues.length} queue(s), not queue ${h.queue}`);
    // ring-ref, or ring-ref0 of a multi-page ring: the Hello names the first page.
    const ref = q.ringRefs[XENBUS_KEYS.RING_REF]?.[0];
    if (ref !== h.ringRef)
      throw new BlkbackError(
        'EACCES',
        `${q.dir}/ring-ref${t.ringPageOrder > 0 ? '0' : ''} of dom${h.frontendDomid} is ${String(ref)}, not ${h.ringRef}`,
      );
    const protocol = parseProtocol(t.protocol);
    if (h.protocol !== protocol)
      throw new BlkbackError(
        'EACCES',
        `${h.device}: stream speaks ${h.protocol}, the frontend wrote protocol ${protocol}`,
      );
    const live = await this.opts.checks.liveness(h.frontendDomid);
    if (!live.alive) throw new BlkbackError('EACCES', live.why);
    // The device may have gone while the checks ran.
    if (this.devices.get(h.device) !== d || d.transport !== t)
      throw new BlkbackError('EAGAIN', `${h.device} changed while the stream was checked`);
    const server = d.server;
    return {
      size: blkifRingSize(1 << t.ringPageOrder, protocol),
      codec: blkifRingCodec(protocol),
      label: `${d.label} queue-${h.queue}`,
      handle: (r) => (this.quiescing ? new Promise<never>(() => undefined) : server.execute(r.req, r)),
      errorResponse: (req) => blkifResponse(req, BLKIF_RSP.BLKIF_RSP_ERROR),
    };
  }
}

/**
 * The zvol `params` names (`zvol:tank/vm1`, `/dev/zvol/tank/vm1@s1`, also behind libxl's `raw:`/`aio:`
 * format prefix), or undefined for an image; EINVAL for a `zvol:` that names no volume.
 */
function zvolOf(params: string, key: string): string | undefined {
  const bare = params.replace(/^(raw|aio):/, '');
  const volume = parseZvolTarget(bare);
  if (volume === undefined && (bare.startsWith('zvol:') || bare.startsWith('/dev/zvol/')))
    throw new BlkbackError(
      'EINVAL',
      `${key}: ${JSON.stringify(params)} names no volume (zvol:<pool>/<volume>[@<snapshot>])`,
    );
  return volume;
}
