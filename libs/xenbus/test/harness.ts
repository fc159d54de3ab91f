// A real XenStore for the handshake tests: xenstored over a real nats-server, one XenstoreClient per
// domain (dom0 the toolstack, dom1 the driver domain, dom5 and dom6 guests), device dirs written as libxl
// writes them (both at Initialising, in one transaction, with the owner/reader permissions of xen-facts §4).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NodeFileIO } from '@dominion/fsio';
import { startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';
import type { XenbusLogger } from '../src/index.js';

export const BE = 1;
export const GUESTS = [5, 6];

export interface World {
  dom0: XenstoreClient;
  client(domid: number): Promise<XenstoreClient>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const srv: NatsServerHandle = await startNatsServer();
  const tmp = tempDir('xenbus-');
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
  for (const domid of [BE, ...GUESTS]) {
    await dom0.introduce(domid, 0, 1);
    await dom0.mkdir(`/local/domain/${domid}`);
    await dom0.setPerms(`/local/domain/${domid}`, [{ domid, perm: 'n' }]);
  }
  return {
    dom0,
    client,
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

export interface Dirs {
  frontend: string;
  backend: string;
}

export function dirsOf(fe: number, devid: number, type = 'vbd'): Dirs {
  return {
    frontend: `/local/domain/${fe}/device/${type}/${devid}`,
    backend: `/local/domain/${BE}/backend/${type}/${fe}/${devid}`,
  };
}

/** What libxl writes for a vbd (the keys the handshake reads; the rest of libxl's set does not matter here). */
export async function addDevice(dom0: XenstoreClient, fe: number, devid: number): Promise<Dirs> {
  const d = dirsOf(fe, devid);
  await dom0.transaction(async (tx) => {
    const front: [string, string][] = [
      ['backend', d.backend],
      ['backend-id', String(BE)],
      ['state', '1'],
      ['virtual-device', String(devid)],
    ];
    const back: [string, string][] = [
      ['frontend', d.frontend],
      ['frontend-id', String(fe)],
      ['online', '1'],
      ['state', '1'],
      ['mode', 'w'],
    ];
    await tx.write(d.frontend, '');
    await tx.setPerms(d.frontend, [`n${fe}`, `r${BE}`]);
    for (const [k, v] of front) await tx.write(`${d.frontend}/${k}`, v);
    await tx.write(d.backend, '');
    await tx.setPerms(d.backend, [`n${BE}`, `r${fe}`]);
    for (const [k, v] of back) await tx.write(`${d.backend}/${k}`, v);
  });
  return d;
}

/** Collects log lines so a test can show what was reported. */
export function logSink(): { logger: XenbusLogger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: (level, msg) => void lines.push(`${level} ${msg}`) };
}
