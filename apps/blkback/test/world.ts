// A real system around blkback for its tests: nats-server, xenstored over NATS, and the hypervisor engine
// served on the bus with identities (getdomainkey answers each domain's user key, as apps/hypervisor does
// in operator mode; the bus itself runs without auth). dom0 creates the driver domain and two guests,
// introduces them to XenStore and writes vbd dirs as libxl does. Frontends are played by FrontVbd:
// XenbusFrontend + FrontRing + RingFrontStream with the guest's own GrantTable and key.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import type { DomId } from '@dominion/abi';
import {
  BLKIF_OP,
  BLKIF_RING_IDS,
  blkifRingCodec,
  blkifRingSize,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { seedText } from '@dominion/identity';
import { FrontRing, GrantTable } from '@dominion/ring';
import { RingFrontStream } from '@dominion/ringstream';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { XenbusFrontend, type XenbusBackendView, type XenbusLogger } from '@dominion/xenbus';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';
import { BlkbackModule, BlkbackService } from '../src/index.js';

import { NOAUTH_RING_SEED } from '@dominion/identity';

export { NOAUTH_RING_SEED };

export interface Domain {
  domid: DomId;
  seed: string;
  key: string;
}

export interface World {
  url: string;
  dir: string;
  dom0: XenstoreClient;
  hv0: HypervisorClient;
  /** The driver domain. */
  be: Domain;
  guests: Domain[];
  client(domid: DomId): Promise<XenstoreClient>;
  nc(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/**
 * `identities: false` is a bus without auth: getdomainkey answers ENOSYS and every domain's seed is the
 * published NOAUTH one, as apps/guest's frontends use then.
 */
export async function startWorld(nGuests = 2, opts: { identities?: boolean } = {}): Promise<World> {
  const identities = opts.identities ?? true;
  const srv: NatsServerHandle = await startNatsServer();
  const tmp = tempDir('blkback-');
  const keys = new Map<DomId, string>();
  const conns: NatsConnection[] = [];
  const nc = async (): Promise<NatsConnection> => {
    const c = await connect({ servers: srv.url });
    conns.push(c);
    return c;
  };
  const hvNc = await nc();
  const engine = new Hypervisor({
    host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 },
    domainKey: identities ? (d) => keys.get(d) : undefined,
  });
  const hvServer: HypervisorServer = serveHypervisor(hvNc, engine);
  const xs = await Xenstored.open({ io: new NodeFileIO(), dir: `${tmp.path}/xenstore` });
  const transport = new XsNatsTransport(xs, await nc());
  await transport.start();
  const clients: XenstoreClient[] = [];
  const client = async (domid: DomId): Promise<XenstoreClient> => {
    const c = new XenstoreClient(await nc(), { domid, onError: () => undefined });
    clients.push(c);
    return c;
  };
  const dom0 = await client(0);
  const hv0 = new HypervisorClient(await nc(), 0);
  const mk = async (name: string, driver: boolean): Promise<Domain> => {
    const domid = await hv0.createDomain({ name, target_memkb: 65536, driver_domain: driver });
    const kp = identities ? createUser() : fromSeed(new TextEncoder().encode(NOAUTH_RING_SEED));
    keys.set(domid, kp.getPublicKey());
    await dom0.introduce(domid, 0, 1);
    await dom0.mkdir(`/local/domain/${domid}`);
    await dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
    return { domid, seed: seedText(kp), key: kp.getPublicKey() };
  };
  const be = await mk('blkback', true);
  const guests: Domain[] = [];
  for (let i = 0; i < nGuests; i++) guests.push(await mk(`guest${i}`, false));
  return {
    url: srv.url,
    dir: tmp.path,
    dom0,
    hv0,
    be,
    guests,
    client,
    nc,
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      hvServer.close();
      await transport.stop();
      await xs.close();
      for (const c of conns) if (!c.isClosed()) await c.close();
      await srv.stop();
      tmp.remove();
    },
  };
}

export interface VbdSpec {
  params: string;
  mode?: 'r' | 'w';
  size?: string;
  deviceType?: 'disk' | 'cdrom';
}

export interface VbdDirs {
  frontend: string;
  backend: string;
}

/** What libxl writes for a vbd (device-dirs.ts's keys), plus Dominion's `size`, in one transaction. */
export async function addVbd(w: World, fe: DomId, devid: number, spec: VbdSpec): Promise<VbdDirs> {
  const be = w.be.domid;
  const d = {
    frontend: `/local/domain/${fe}/device/vbd/${devid}`,
    backend: `/local/domain/${be}/backend/vbd/${fe}/${devid}`,
  };
  const deviceType = spec.deviceType ?? 'disk';
  await w.dom0.transaction(async (tx) => {
    const front: [string, string][] = [
      ['backend', d.backend],
      ['backend-id', String(be)],
      ['state', '1'],
      ['virtual-device', String(devid)],
      ['device-type', deviceType],
      ['trusted', '1'],
    ];
    const back: [string, string][] = [
      ['frontend', d.frontend],
      ['frontend-id', String(fe)],
      ['online', '1'],
      ['state', '1'],
      ['removable', '0'],
      ['bootable', '1'],
      ['dev', 'xvda'],
      ['type', 'phy'],
      ['mode', spec.mode ?? 'w'],
      ['device-type', deviceType],
      ['params', spec.params],
      ['discard-enable', '1'],
      ['specification', 'xen'],
    ];
    if (spec.size !== undefined) back.push(['size', spec.size]);
    await tx.write(d.frontend, '');
    await tx.setPerms(d.frontend, [`n${fe}`, `r${be}`]);
    for (const [k, v] of front) await tx.write(`${d.frontend}/${k}`, v);
    await tx.write(d.backend, '');
    await tx.setPerms(d.backend, [`n${be}`, `r${fe}`]);
    for (const [k, v] of back) await tx.write(`${d.backend}/${k}`, v);
  });
  return d;
}

/** blkback in this process, through its Nest module, configured from `env` like the real app. */
export async function startBlkbackInProcess(
  w: World,
  env: Record<string, string> = {},
): Promise<{ app: INestApplicationContext; svc: BlkbackService }> {
  const mod = await Test.createTestingModule({
    imports: [
      BlkbackModule.forRoot({
        env: {
          DOMINION_NATS_URL: w.url,
          DOMINION_DOMID: String(w.be.domid),
          DOMINION_STATE_DIR: `${w.dir}/blkback`,
          DOMINION_LOG_LEVEL: 'silent',
          DOMINION_BLKBACK_MAX_QUEUES: '2',
          ...env,
        },
      }),
    ],
  }).compile();
  const app = await mod.init();
  return { app, svc: app.get(BlkbackService) };
}

export const SECTOR = 512;
export const PAGE = 4096;

export function pattern(seed: number, n = PAGE): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 131 + i * 7 + (i >> 8)) & 0xff;
  return b;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * A guest's blkfront for one single-queue vbd: the xenbus handshake (ring-ref of a granted page, a real
 * event channel from the hypervisor, protocol), then one ring stream to the grpc-endpoint the backend
 * published, re-read before every dial so a restarted backend is found again.
 */
export class FrontVbd {
  readonly grants = new GrantTable();
  readonly ring: FrontRing<BlkifRequest, BlkifResponse>;
  readonly stream: RingFrontStream<BlkifRequest, BlkifResponse>;
  readonly xb: XenbusFrontend;
  ringRef = 0;
  evtchn = 0;
  private nextId = 1n;
  backend: XenbusBackendView | undefined;

  constructor(
    readonly dom: Domain,
    readonly xs: XenstoreClient,
    readonly hv: HypervisorClient,
    readonly dirs: VbdDirs,
    readonly backendDomid: DomId,
    opts: { claim?: DomId; logger?: XenbusLogger } = {},
  ) {
    this.ring = new FrontRing({
      size: blkifRingSize(1),
      backendDomid,
      grants: this.grants,
      ...BLKIF_RING_IDS,
      label: `dom${dom.domid} ${dirs.frontend}`,
    });
    this.xb = new XenbusFrontend({
      store: xs,
      path: dirs.frontend,
      logger: opts.logger,
      handlers: {
        publish: async () => {
          if (this.ringRef === 0) {
            this.ringRef = this.grants.grant(backendDomid, new Uint8Array(PAGE));
            this.evtchn = await this.hv.evtchnAllocUnbound(backendDomid);
          }
          return { 'ring-ref': String(this.ringRef), 'event-channel': String(this.evtchn), protocol: 'x86_64-abi' };
        },
        connected: (b) => {
          this.backend = b;
          this.stream.kick();
        },
      },
    });
    this.stream = new RingFrontStream({
      ring: this.ring,
      codec: blkifRingCodec(),
      frontendDomid: opts.claim ?? dom.domid,
      seed: dom.seed,
      target: async () => ({
        endpoint: (await xs.tryRead(`${dirs.backend}/grpc-endpoint`)) ?? '',
        backend: backendDomid,
        device: dirs.backend,
        ringRef: this.ringRef,
      }),
      retry: { initialMs: 20, maxMs: 200 },
    });
  }

  /** Handshake to Connected, then the ring stream. */
  async connect(): Promise<XenbusBackendView> {
    await this.xb.start();
    const view = await this.xb.whenConnected();
    this.stream.start();
    await this.stream.whenConnected();
    return view;
  }

  close(): void {
    this.stream.close();
    void this.xb.stop();
  }

  private id(): bigint {
    return this.nextId++;
  }

  /** Writes `data` (whole pages, up to 11) at `sector` in one request. */
  write(sector: number, data: Uint8Array): Promise<BlkifResponse> {
    const pages = Math.ceil(data.length / PAGE);
    const refs: number[] = [];
    for (let i = 0; i < pages; i++) {
      const page = Buffer.alloc(PAGE);
      page.set(data.subarray(i * PAGE, (i + 1) * PAGE));
      refs.push(this.grants.grant(this.backendDomid, page, true));
    }
    return this.ring.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_WRITE,
        nrSegments: pages,
        handle: 51712,
        id: this.id(),
        sectorNumber: BigInt(sector),
        segments: refs.map((gref) => ({ gref, firstSect: 0, lastSect: 7 })),
      },
      refs.map((ref) => ({ ref })),
    );
  }

  /** Reads `pages` pages at `sector` into granted pages. */
  async read(sector: number, pages = 1): Promise<{ rsp: BlkifResponse; data: Buffer }> {
    const bufs = Array.from({ length: pages }, () => Buffer.alloc(PAGE));
    const refs = bufs.map((b) => this.grants.grant(this.backendDomid, b, false));
    const rsp = await this.ring.submit(
      {
        operation: BLKIF_OP.BLKIF_OP_READ,
        nrSegments: pages,
        handle: 51712,
        id: this.id(),
        sectorNumber: BigInt(sector),
        segments: refs.map((gref) => ({ gref, firstSect: 0, lastSect: 7 })),
      },
      refs.map((ref) => ({ ref })),
    );
    return { rsp, data: Buffer.concat(bufs) };
  }

  flush(): Promise<BlkifResponse> {
    return this.ring.submit({
      operation: BLKIF_OP.BLKIF_OP_FLUSH_DISKCACHE,
      nrSegments: 0,
      handle: 51712,
      id: this.id(),
      sectorNumber: 0n,
      segments: [],
    });
  }
}
