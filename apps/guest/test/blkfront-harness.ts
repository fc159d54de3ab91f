// A small block driver domain for blkfront's tests, built from the landed libraries rather than
// apps/blkback: libs/xenbus's XenbusBackendDir runs the vbd handshake in its backend dir, libs/vbd's
// VbdServer serves a RawFileBackend image, libs/ringstream's Ring service carries the rings on a grpc-js
// server on 127.0.0.1, and ring proofs are checked against the hypervisor's getdomainkey. Around it: a real
// nats-server, the hypervisor engine served on it (with the domains' keys), xenstored, and dom0 writing the
// device dirs with libs/toolstack's vbdDirs, as `xl block-attach` does.
import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import type { DomId } from '@dominion/abi';
import {
  BLKIF_RSP,
  blkifResponse,
  blkifRingCodec,
  blkifRingSize,
  isIndirectRequest,
  type BlkifProtocol,
  type BlkifRequest,
  type BlkifResponse,
} from '@dominion/blkif';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { seedText } from '@dominion/identity';
import { RING_CHANNEL_OPTIONS, addRingService, type RingAccept, type RingStreamHello } from '@dominion/ringstream';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { vbdDirs } from '@dominion/toolstack';
import { RawFileBackend, VbdServer, vbdConnectKeys, vbdProbeKeys, type VbdFeatures } from '@dominion/vbd';
import { XenbusBackendDir, readRingTransport, type RingTransport } from '@dominion/xenbus';
import { parseDiskSpec } from '@dominion/xlcfg';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';

export interface Domain {
  domid: DomId;
  seed: string;
}

export class World {
  readonly keys = new Map<DomId, string>();
  readonly tmp = tempDir('blkfront-');
  srv!: NatsServerHandle;
  nc!: NatsConnection;
  hvServer!: HypervisorServer;
  xsd!: Xenstored;
  transport!: XsNatsTransport;
  dom0!: XenstoreClient;
  hv0!: HypervisorClient;
  private readonly conns: NatsConnection[] = [];
  private readonly clients: XenstoreClient[] = [];

  static async start(): Promise<World> {
    const w = new World();
    w.srv = await startNatsServer();
    w.nc = await connect({ servers: w.srv.url });
    const hv = new Hypervisor({
      host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 },
      domainKey: (d) => w.keys.get(d),
    });
    w.hvServer = serveHypervisor(w.nc, hv);
    w.xsd = await Xenstored.open({ io: new NodeFileIO(), dir: `${w.tmp.path}/xenstore` });
    w.transport = new XsNatsTransport(w.xsd, w.nc);
    await w.transport.start();
    w.hv0 = new HypervisorClient(w.nc, 0);
    w.dom0 = await w.client(0);
    return w;
  }

  /** A NATS connection of its own (a domain's service). */
  async conn(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.srv.url });
    this.conns.push(nc);
    return nc;
  }

  async client(domid: DomId, nc?: NatsConnection): Promise<XenstoreClient> {
    const c = new XenstoreClient(nc ?? (await this.conn()), { domid, onError: () => undefined });
    this.clients.push(c);
    return c;
  }

  /** A domain with its own key (what getdomainkey answers for it) and XenStore home. */
  async domain(name: string, driverDomain = false): Promise<Domain> {
    const domid = await this.hv0.createDomain({ name, target_memkb: 65536, driver_domain: driverDomain });
    const kp = createUser();
    this.keys.set(domid, kp.getPublicKey());
    await this.xsd.introduceDomain(domid);
    await this.dom0.mkdir(`/local/domain/${domid}`);
    await this.dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
    return { domid, seed: seedText(kp) };
  }

  /** What `xl block-attach <fe> vdev=..,access=..,target=..` writes; returns the two dirs. */
  async attach(fe: DomId, be: DomId, spec: string): Promise<{ frontend: string; backend: string }> {
    const d = vbdDirs({ frontendDomid: fe, backendDomid: be, protocol: 'x86_64-abi' }, parseDiskSpec(spec));
    await this.dom0.transaction(async (tx) => {
      for (const w of d.writes) {
        await tx.write(w.path, w.value);
        await tx.setPerms(w.path, w.perms);
      }
    });
    return d.paths;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) await c.close().catch(() => undefined);
    for (const nc of this.conns) await nc.close().catch(() => undefined);
    await this.transport.stop();
    await this.xsd.close();
    this.hvServer.close();
    await this.nc.close();
    await this.srv.stop();
    this.tmp.remove();
  }
}

/** Holds requests while closed (to have them in flight at a kill). */
export class Gate {
  private waiting: Array<() => void> = [];
  open = true;
  close(): void {
    this.open = false;
  }
  release(): void {
    this.open = true;
    for (const w of this.waiting.splice(0)) w();
  }
  pass(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((r) => this.waiting.push(r));
  }
}

interface Connected {
  transport: RingTransport;
  server: VbdServer;
  frontendDomid: DomId;
}

export interface Served {
  operation: number;
  indirectOp?: number;
  nrSegments: number;
  queue: number;
}

export interface BlkbackOptions {
  maxQueues?: number;
  features?: VbdFeatures;
  port?: number;
}

/** The driver domain: one process's worth of backend dir watcher, gRPC server and open images. */
export class TestBlkback {
  readonly gate = new Gate();
  readonly served: Served[] = [];
  /** Event channels bound with bind_interdomain, by backend dir. */
  readonly bound = new Map<string, number[]>();
  readonly connected = new Map<string, Connected>();
  held = 0;
  port = 0;
  private server!: grpc.Server;
  private dir!: XenbusBackendDir<RingTransport>;
  private nc!: NatsConnection;
  private readonly disks: RawFileBackend[] = [];

  constructor(
    private readonly world: World,
    readonly domid: DomId,
    private readonly opts: BlkbackOptions = {},
  ) {}

  /** Backend log lines (XenbusBackendDir's), for a failing test to show. */
  readonly lines: string[] = [];
  private readonly log = (level: string, msg: string): void => {
    this.lines.push(`${level} ${msg}`);
    if (process.env.BLK_DEBUG) process.stderr.write(`be${this.domid} ${level} ${msg}\n`);
  };

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.nc = await this.world.conn();
    const hv = new HypervisorClient(this.nc, this.domid);
    const store = await this.world.client(this.domid, this.nc);
    this.server = new grpc.Server(RING_CHANNEL_OPTIONS);
    addRingService<BlkifRequest, BlkifResponse>(this.server, {
      backend: this.domid,
      keyOf: (d) => hv.getDomainKey(d),
      authorize: (h) => this.authorize(h),
    });
    this.port = await bind(this.server, this.opts.port ?? 0);
    const maxQueues = this.opts.maxQueues ?? 1;
    this.dir = await XenbusBackendDir.watch<RingTransport>({
      store,
      path: `/local/domain/${this.domid}/backend/vbd`,
      logger: this.log,
      device: (path) => ({
        logger: this.log,
        handlers: {
          probe: () => ({ ...vbdProbeKeys({ maxQueues }), 'grpc-endpoint': this.endpoint }),
          readFrontend: (r) => readRingTransport(r, { maxQueues, protocols: ['x86_64-abi'] }),
          connect: async (transport, dev) => {
            const params = await store.tryRead(`${path}/params`);
            const mode = await store.tryRead(`${path}/mode`);
            const disk = await RawFileBackend.open({ io: new NodeFileIO(), path: params!, readOnly: mode === 'r' });
            this.disks.push(disk);
            const server = new VbdServer({
              backend: disk,
              frontendDomid: dev.frontendDomid,
              devid: Number(path.split('/').pop()),
              features: this.opts.features,
            });
            const ports: number[] = [];
            for (const q of transport.queues)
              ports.push(await hv.evtchnBindInterdomain(dev.frontendDomid, q.eventChannel));
            this.bound.set(path, ports);
            this.connected.set(path, { transport, server, frontendDomid: dev.frontendDomid });
            return vbdConnectKeys(server.properties);
          },
          disconnect: () => void this.connected.delete(path),
        },
      }),
    });
    return this;
  }

  /** Dies as a killed driver domain does: streams cut, nothing written to XenStore. */
  async kill(): Promise<void> {
    this.server.forceShutdown();
    await this.dir.stop();
  }

  async stop(): Promise<void> {
    await this.kill();
    for (const d of this.disks) await d.close().catch(() => undefined);
  }

  private authorize(h: RingStreamHello): RingAccept<BlkifRequest, BlkifResponse> {
    const c = this.connected.get(h.device);
    if (!c) throw Object.assign(new Error(`${h.device} is not connected`), { kind: 'EAGAIN' });
    if (c.frontendDomid !== h.frontendDomid) throw new Error(`frontend-id of ${h.device} is ${c.frontendDomid}`);
    const ref = c.transport.queues[h.queue]?.ringRefs['ring-ref']?.[0];
    if (ref !== h.ringRef) throw new Error(`queue ${h.queue} ring-ref of ${h.device} is ${ref}, not ${h.ringRef}`);
    return {
      size: blkifRingSize(1),
      codec: blkifRingCodec(h.protocol as BlkifProtocol),
      label: `${h.device} queue-${h.queue}`,
      handle: async (r) => {
        this.held++;
        try {
          await this.gate.pass();
        } finally {
          this.held--;
        }
        const req = r.req;
        this.served.push({
          operation: req.operation,
          indirectOp: isIndirectRequest(req) ? req.indirectOp : undefined,
          nrSegments: 'nrSegments' in req ? req.nrSegments : 0,
          queue: h.queue,
        });
        return c.server.execute(req, r);
      },
      errorResponse: (req) => blkifResponse(req, BLKIF_RSP.BLKIF_RSP_ERROR),
    };
  }
}

/** Binds 127.0.0.1:port; a port just freed by a killed server may take a moment to come back. */
async function bind(server: grpc.Server, port: number): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<number>((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
