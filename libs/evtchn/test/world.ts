// A hypervisor (the engine served on the bus) and domains, each with its own NATS connection, on a real
// nats-server. Shared by the tests and the benchmark.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DomId } from '@dominion/abi';
import {
  Hypervisor,
  HypervisorClient,
  serveHypervisor,
  type HypervisorServer,
  type LivenessConfig,
} from '@dominion/hypervisor';
import { startNatsServer, type NatsServerHandle } from '@dominion/testing';
import { EventChannels } from '../src/index.js';

export interface Dom {
  domid: DomId;
  nc: NatsConnection;
  hv: HypervisorClient;
  ec: EventChannels;
}

export class World {
  private readonly conns: NatsConnection[] = [];
  private constructor(
    readonly srv: NatsServerHandle,
    readonly engine: Hypervisor,
    private readonly server: HypervisorServer,
    readonly dom0: Dom,
  ) {}

  static async start(liveness?: Partial<LivenessConfig>): Promise<World> {
    const srv = await startNatsServer();
    const hvNc = await connect({ servers: srv.url, name: 'hypervisor' });
    const engine = new Hypervisor({
      host: { totalMemoryKiB: 64 * 1024 * 1024, nrCpus: 4, dom0MemoryKiB: 1024 * 1024, dom0Vcpus: 4 },
      liveness,
    });
    const server = serveHypervisor(hvNc, engine);
    const dom0 = await World.attach(srv.url, 0);
    const w = new World(srv, engine, server, dom0);
    w.conns.push(hvNc, dom0.nc);
    return w;
  }

  private static async attach(url: string, domid: DomId): Promise<Dom> {
    const nc = await connect({ servers: url, name: `d${domid}` });
    const hv = new HypervisorClient(nc, domid);
    return { domid, nc, hv, ec: new EventChannels(nc, domid, hv) };
  }

  /** A running guest created by dom0, with its own connection. */
  async guest(name: string): Promise<Dom> {
    const domid = await this.dom0.hv.createDomain({ name, target_memkb: 64 * 1024 });
    await this.dom0.hv.unpauseDomain(domid);
    const d = await World.attach(this.srv.url, domid);
    this.conns.push(d.nc);
    return d;
  }

  /** A raw connection (a domain that does not use the library). */
  async raw(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.srv.url });
    this.conns.push(nc);
    return nc;
  }

  async stop(): Promise<void> {
    this.server.close();
    for (const nc of this.conns) await nc.close();
    await this.srv.stop();
  }
}
