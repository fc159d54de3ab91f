// A small Xen system for netfront tests, all real: a nats-server, the hypervisor engine served on it (it
// knows each domain's user key, so ring proofs are verified), a xenstored, the net driver domain as the
// real apps/netback process (built dist, a child: it can be killed with -9 and started again), and guests
// made of the real guest-side objects: a XenstoreClient and a HypervisorClient as that domain, a grant
// table, and a Netfront per vif. vif dirs are written by libs/toolstack's vifDirs from xl vif specs.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { seedText } from '@dominion/identity';
import { GrantTable } from '@dominion/ring';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { deviceMoveOps, vifDirs, type ToolstackDevice, type XsNodePerms } from '@dominion/toolstack';
import { parseVifSpec } from '@dominion/xlcfg';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';
import { Netfront } from '../src/netfront/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const NETBACK_MAIN = join(here, '..', '..', 'netback', 'dist', 'main.js');

export interface TestGuest {
  domid: number;
  xs: XenstoreClient;
  hv: HypervisorClient;
  grants: GrantTable;
  seed: string;
  nics: Netfront[];
  /** The xl vif specs of its vifs, by devid. */
  specs: string[];
}

export class NetWorld {
  netbackDomid = 0;
  netback: ChildProcess | undefined;
  netbackLog = '';
  /** Warnings and errors of the guests' netfronts. */
  readonly frontendLog: string[] = [];
  private readonly clients: XenstoreClient[] = [];
  private readonly guests: TestGuest[] = [];

  private constructor(
    readonly srv: NatsServerHandle,
    readonly nc: NatsConnection,
    private readonly hvServer: HypervisorServer,
    private readonly xsd: Xenstored,
    private readonly transport: XsNatsTransport,
    private readonly tmp: { path: string; remove(): void },
    readonly dom0: XenstoreClient,
    readonly hv0: HypervisorClient,
    /** The user key of each guest, as the hypervisor answers getdomainkey. */
    private readonly keys: Map<number, string>,
  ) {}

  static async start(): Promise<NetWorld> {
    const srv = await startNatsServer();
    const nc = await connect({ servers: srv.url });
    const keys = new Map<number, string>();
    const hvServer = serveHypervisor(
      nc,
      new Hypervisor({
        host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 },
        domainKey: (d) => keys.get(d),
      }),
    );
    const tmp = tempDir('netfront-');
    const xsd = await Xenstored.open({ io: new NodeFileIO(), dir: `${tmp.path}/xenstore` });
    const transport = new XsNatsTransport(xsd, nc);
    await transport.start();
    const dom0 = new XenstoreClient(nc, { domid: 0 });
    const w = new NetWorld(srv, nc, hvServer, xsd, transport, tmp, dom0, new HypervisorClient(nc, 0), keys);
    w.netbackDomid = await w.domain('netback');
    return w;
  }

  /** Sets the user key the hypervisor answers getdomainkey with for `domid`. */
  setKey(domid: number, key: string): void {
    this.keys.set(domid, key);
  }

  /** Creates a domain with a user key the hypervisor vouches for, introduced with a home dir. */
  async domain(name: string): Promise<number> {
    const domid = await this.hv0.createDomain({ name, target_memkb: 65536 });
    await this.xsd.introduceDomain(domid);
    await this.dom0.mkdir(`/local/domain/${domid}`);
    await this.dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
    return domid;
  }

  /** A guest with the vifs of `specs` (xl vif specs, devid = index), netback as their backend. */
  async guest(name: string, specs: string[], opts: { rxBuffers?: number } = {}): Promise<TestGuest> {
    const domid = await this.domain(name);
    const kp = createUser();
    this.keys.set(domid, kp.getPublicKey());
    for (const [devid, spec] of specs.entries()) await this.attachVif(domid, devid, spec);
    const xs = new XenstoreClient(this.nc, { domid, onError: () => undefined });
    this.clients.push(xs);
    const g: TestGuest = {
      domid,
      xs,
      hv: new HypervisorClient(this.nc, domid),
      grants: new GrantTable(),
      seed: seedText(kp),
      nics: [],
      specs,
    };
    for (const devid of specs.keys()) {
      const nic = new Netfront({
        store: xs,
        evtchn: g.hv,
        domid,
        grants: g.grants,
        path: `/local/domain/${domid}/device/vif/${devid}`,
        seed: g.seed,
        rxBuffers: opts.rxBuffers,
        timeoutMs: 5000,
        logger: (level, msg) => {
          if (level !== 'debug') this.frontendLog.push(`dom${domid} ${level}: ${msg}`);
        },
      });
      await nic.start();
      g.nics.push(nic);
    }
    this.guests.push(g);
    return g;
  }

  /** What the toolstack writes for a vif (both dirs at state 1), netback as its backend. */
  async attachVif(domid: number, devid: number, spec: string): Promise<void> {
    const { vif } = parseVifSpec(spec, { devid, strict: true });
    const { writes } = vifDirs({ frontendDomid: domid, backendDomid: this.netbackDomid }, { ...vif, mac: vif.mac! });
    await this.dom0.transaction(async (tx) => {
      for (const wr of writes) {
        await tx.write(wr.path, wr.value);
        await tx.setPerms(wr.path, wr.perms);
      }
    });
  }

  /**
   * The toolstack's re-attach after the driver domain died (libs/toolstack's deviceMoveOps, as dom0 runs
   * it): a new net driver domain under a new domid; in one transaction per vif its backend dir is written
   * afresh there, the frontend's `backend`/`backend-id` rewritten, the frontend's nodes made readable by
   * the new backend, and the old backend dir removed.
   */
  async replaceNetback(name: string): Promise<void> {
    const old = this.netbackDomid;
    this.netbackDomid = await this.domain(name);
    for (const g of this.guests) {
      for (const [devid, spec] of g.specs.entries()) {
        const { vif } = parseVifSpec(spec, { devid, strict: true });
        const front = `/local/domain/${g.domid}/device/vif/${devid}`;
        const nodes: XsNodePerms[] = [];
        const walk = async (path: string): Promise<void> => {
          nodes.push({ path, perms: await this.dom0.getPerms(path) });
          for (const child of await this.dom0.directory(path)) await walk(`${path}/${child}`);
        };
        await walk(front);
        const device: ToolstackDevice = {
          kind: 'vif',
          vif: { ...vif, mac: vif.mac! },
          backend: 'netback',
          backendDomid: old,
        };
        const { ops } = deviceMoveOps(g.domid, device, this.netbackDomid, nodes);
        await this.dom0.transaction(async (tx) => {
          for (const op of ops) {
            if (op.op === 'rm') await tx.rm(op.path);
            else if (op.op === 'set-perms') await tx.setPerms(op.path, op.perms);
            else {
              await tx.write(op.path, op.value);
              await tx.setPerms(op.path, op.perms);
            }
          }
        });
      }
    }
  }

  /** Starts apps/netback as a child process of domain netbackDomid. */
  async startNetback(opts: { uplinks?: string } = {}): Promise<void> {
    const child = spawn(process.execPath, [NETBACK_MAIN], {
      env: {
        ...process.env,
        DOMINION_NATS_URL: this.srv.url,
        DOMINION_DOMID: String(this.netbackDomid),
        DOMINION_LOG_LEVEL: 'info',
        DOMINION_STATE_DIR: `${this.tmp.path}/netback`,
        DOMINION_NETBACK_BRIDGES: 'xenbr0,xenbr1',
        DOMINION_NETBACK_MAX_QUEUES: '1',
        DOMINION_NETBACK_UPLINKS: opts.uplinks ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => (this.netbackLog += b.toString()));
    child.stderr.on('data', (b: Buffer) => (this.netbackLog += b.toString()));
    this.netback = child;
    // Ready once its probe published the ring endpoint somewhere, or at once when no vif exists yet.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`netback did not start:\n${this.netbackLog}`)), 15_000);
      const check = () => {
        if (/netback ready/.test(this.netbackLog)) {
          clearTimeout(t);
          resolve();
        } else setTimeout(check, 20);
      };
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`netback exited with ${code}:\n${this.netbackLog}`));
      });
      check();
    });
  }

  /** kill -9 of the net driver domain's process. */
  async killNetback(): Promise<void> {
    const child = this.netback;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.netback = undefined;
  }

  async stop(): Promise<void> {
    for (const g of this.guests) for (const n of g.nics) await n.stop().catch(() => undefined);
    if (this.netback && this.netback.exitCode === null) {
      const child = this.netback;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    for (const c of this.clients) await c.close().catch(() => undefined);
    await this.dom0.close().catch(() => undefined);
    this.hvServer.close();
    await this.transport.stop();
    await this.xsd.close();
    await this.nc.close();
    await this.srv.stop();
    this.tmp.remove();
  }
}
