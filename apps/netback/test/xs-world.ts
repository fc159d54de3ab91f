// A real XenStore for the vif handshake: xenstored over a real nats-server, one XenstoreClient per
// domain (dom0 the toolstack, dom1 this net driver domain, dom5 and dom6 guests), and vif dirs written
// with libs/toolstack's vifDirs from an xl vif spec, exactly as dom0's toolstack writes them. A hypervisor
// engine on the same bus has domains 1 .. the last guest (no identities: getdomainkey is ENOSYS), so
// netback binds real event channels the guests allocated.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DOMID, type EvtchnPort } from '@dominion/abi';
import { Hypervisor, serveHypervisor } from '@dominion/hypervisor';
import { NodeFileIO } from '@dominion/fsio';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { vifDirs, type DevicePaths } from '@dominion/toolstack';
import { parseVifSpec } from '@dominion/xlcfg';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';

export const NETBACK = 1;

export interface World {
  natsUrl: string;
  dom0: XenstoreClient;
  client(domid: number): Promise<XenstoreClient>;
  hypervisor: Hypervisor;
  /** EVTCHNOP_alloc_unbound by guest `fe` for netback: the port its netfront writes as event-channel. */
  allocPort(fe: number): EvtchnPort;
  /** `xl network-attach <fe> <spec...>` with netback as the backend. */
  attachVif(fe: number, spec: string, devid: number): Promise<DevicePaths>;
  stop(): Promise<void>;
}

export async function startWorld(guests: number[]): Promise<World> {
  const srv: NatsServerHandle = await startNatsServer();
  const tmp = tempDir('netback-');
  const xs = await Xenstored.open({ io: new NodeFileIO(), dir: `${tmp.path}/xenstore` });
  const daemonNc = await connect({ servers: srv.url });
  const transport = new XsNatsTransport(xs, daemonNc);
  await transport.start();
  const conns: NatsConnection[] = [];
  const clients: XenstoreClient[] = [];
  const client = async (domid: number): Promise<XenstoreClient> => {
    const nc = await connect({ servers: srv.url });
    conns.push(nc);
    const c = new XenstoreClient(nc, { domid, onError: () => undefined });
    clients.push(c);
    return c;
  };
  const hvNc = await connect({ servers: srv.url });
  const hypervisor = new Hypervisor({
    host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 },
  });
  const hv = serveHypervisor(hvNc, hypervisor);
  for (let d = 1; d <= Math.max(NETBACK, ...guests); d++)
    hypervisor.createDomain(0, { name: `d${d}`, target_memkb: 65536 });
  const dom0 = await client(0);
  for (const domid of [NETBACK, ...guests]) {
    await dom0.introduce(domid, 0, 1);
    await dom0.mkdir(`/local/domain/${domid}`);
    await dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
  }
  return {
    natsUrl: srv.url,
    dom0,
    client,
    hypervisor,
    allocPort: (fe) =>
      (
        hypervisor.hypercall(fe, 'evtchn_alloc_unbound', { dom: DOMID.DOMID_SELF, remote_dom: NETBACK }).result as {
          port: EvtchnPort;
        }
      ).port,
    attachVif: async (fe, spec, devid) => {
      const { vif } = parseVifSpec(spec, { devid, strict: true });
      const { paths, writes } = vifDirs({ frontendDomid: fe, backendDomid: NETBACK }, { ...vif, mac: vif.mac! });
      await dom0.transaction(async (tx) => {
        for (const w of writes) {
          await tx.write(w.path, w.value);
          await tx.setPerms(w.path, w.perms);
        }
      });
      return paths;
    },
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      for (const nc of conns) await nc.close();
      hv.close();
      await hvNc.close();
      await transport.stop();
      await xs.close();
      await daemonNc.close();
      await srv.stop();
      tmp.remove();
    },
  };
}
