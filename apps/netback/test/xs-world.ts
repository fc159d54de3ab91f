// A real XenStore for the vif handshake: xenstored over a real nats-server, one XenstoreClient per
// domain (dom0 the toolstack, dom1 this net driver domain, dom5 and dom6 guests), and vif dirs written
// with libs/toolstack's vifDirs from an xl vif spec, exactly as dom0's toolstack writes them.
import { connect, type NatsConnection } from '@nats-io/transport-node';
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
      await transport.stop();
      await xs.close();
      await daemonNc.close();
      await srv.stop();
      tmp.remove();
    },
  };
}
