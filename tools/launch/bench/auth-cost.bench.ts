// The cost of identity (issue 3): the same system twice in one run, one nats-server in operator mode with
// every principal logged in with its minted JWT (the hypervisor, dom0's xenstored, two guests), the other
// open; XenStore read, hypercall and event-channel round trips from a guest, interleaved so that a load swing
// hits both alike. Goal: auth within 10% of no auth.
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { DOMID } from '@dominion/abi';
import { EventChannels } from '@dominion/evtchn';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { IdentityStore, mintDomainUser, writeNatsServerConfig, type DomainRole } from '@dominion/identity';
import {
  freePort,
  latencyStats,
  startNatsServer,
  tempDir,
  writeBenchResult,
  type NatsServerHandle,
} from '@dominion/testing';
import { Xenstored, XenstoreClient, XsNatsTransport } from '@dominion/xenstore';

const N = Number(process.env.BENCH_N ?? 6000);
const WARMUP = 500;
const ROUNDS = 6;

interface System {
  auth: boolean;
  srv: NatsServerHandle;
  conns: NatsConnection[];
  server: HypervisorServer;
  xenstored: Xenstored;
  transport: XsNatsTransport;
  ops: Record<string, () => Promise<unknown>>;
  close(): Promise<void>;
}

async function startSystem(auth: boolean, dir: string): Promise<System> {
  let srv: NatsServerHandle;
  let store: IdentityStore | undefined;
  if (auth) {
    store = await IdentityStore.open(join(dir, 'identity'));
    const conf = join(dir, 'nats.conf');
    await writeNatsServerConfig(store, conf, { port: await freePort(), resolverDir: join(dir, 'resolver') });
    srv = await startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
  } else {
    srv = await startNatsServer();
  }
  const conns: NatsConnection[] = [];
  const login = async (domid: number, role: DomainRole): Promise<NatsConnection> => {
    const u = store ? await mintDomainUser(store.account, domid, role) : undefined;
    const nc = await connect({
      servers: srv.url,
      authenticator: u ? credsAuthenticator(new TextEncoder().encode(u.creds)) : undefined,
      inboxPrefix: u?.inboxPrefix,
    });
    conns.push(nc);
    return nc;
  };
  const engine = new Hypervisor({
    host: { totalMemoryKiB: 64 * 1024 * 1024, nrCpus: 4, dom0MemoryKiB: 1024 * 1024, dom0Vcpus: 4 },
  });
  const server = serveHypervisor(await login(DOMID.DOMID_XEN, 'hypervisor'), engine);
  const dom0 = await login(0, 'control');
  const xenstored = await Xenstored.open({ io: new NodeFileIO(), dir: join(dir, 'xenstore') });
  const transport = new XsNatsTransport(xenstored, dom0);
  await transport.start();
  const hv0 = new HypervisorClient(dom0, 0);
  const xs0 = new XenstoreClient(dom0, { domid: 0 });
  const guest = async (name: string): Promise<{ nc: NatsConnection; domid: number; hv: HypervisorClient }> => {
    const domid = await hv0.createDomain({ name, target_memkb: 65536 });
    await hv0.unpauseDomain(domid);
    await xenstored.introduceDomain(domid);
    await xs0.write(`/local/domain/${domid}/data/r`, 'a value of some twenty bytes');
    await xs0.setPerms(`/local/domain/${domid}/data/r`, [`n${domid}`]);
    const nc = await login(domid, 'guest');
    return { nc, domid, hv: new HypervisorClient(nc, domid) };
  };
  const a = await guest('bench-a');
  const b = await guest('bench-b');
  const xsA = new XenstoreClient(a.nc, { domid: a.domid });
  const ecA = new EventChannels(a.nc, a.domid, a.hv);
  const ecB = new EventChannels(b.nc, b.domid, b.hv);
  const ap = await ecA.allocUnbound(b.domid);
  const bp = await ecB.bindInterdomain(a.domid, ap);
  while (ecA.port(ap)?.state !== 'interdomain') await new Promise((r) => setTimeout(r, 5));
  let wake: (() => void) | undefined;
  ecA.on(ap, () => wake?.());
  ecB.on(bp, () => ecB.notify(bp));
  const path = `/local/domain/${a.domid}/data/r`;
  return {
    auth,
    srv,
    conns,
    server,
    xenstored,
    transport,
    ops: {
      'XenStore read': () => xsA.read(path),
      'hypercall (getdomaininfo self)': () => a.hv.getDomainInfo(),
      'evtchn notify round trip': () =>
        new Promise<void>((resolve) => {
          wake = resolve;
          ecA.notify(ap);
        }),
    },
    close: async () => {
      ecA.dispose();
      ecB.dispose();
      await xsA.close();
      await xs0.close();
      server.close();
      await transport.stop();
      await xenstored.close();
      for (const nc of conns) await nc.close();
      await srv.stop();
    },
  };
}

describe('identity', () => {
  it(`auth on vs off in one run: XenStore read, hypercall and evtchn round trips (${N} each)`, async () => {
    const tmp = tempDir('auth-bench-');
    const systems: System[] = [];
    try {
      systems.push(await startSystem(false, join(tmp.path, 'off')));
      systems.push(await startSystem(true, join(tmp.path, 'on')));
      const names = Object.keys(systems[0].ops);
      const samples = new Map<string, { lat: number[]; elapsed: number }>();
      const key = (s: System, op: string): string => `${op}|${s.auth ? 'on' : 'off'}`;
      for (const s of systems)
        for (const op of names) {
          samples.set(key(s, op), { lat: [], elapsed: 0 });
          for (let w = 0; w < WARMUP; w++) await s.ops[op]();
        }
      for (let round = 0; round < ROUNDS; round++) {
        for (const op of names) {
          // Alternate which system goes first, so neither always runs on a warmer cache.
          for (const s of round % 2 ? [...systems].reverse() : systems) {
            const slot = samples.get(key(s, op));
            if (!slot) throw new Error(`no samples for ${key(s, op)}`);
            const t0 = process.hrtime.bigint();
            for (let j = 0; j < N / ROUNDS; j++) {
              const s0 = process.hrtime.bigint();
              await s.ops[op]();
              slot.lat.push(Number(process.hrtime.bigint() - s0));
            }
            slot.elapsed += Number(process.hrtime.bigint() - t0);
          }
        }
      }
      const rows = names.flatMap((op) => {
        const off = samples.get(`${op}|off`);
        const on = samples.get(`${op}|on`);
        if (!off || !on) return [];
        const so = latencyStats(off.lat, off.elapsed);
        const sn = latencyStats(on.lat, on.elapsed);
        const ratio = Math.round((sn.p50_us / so.p50_us) * 100) / 100;
        return [
          { op, auth: 'off', ...so, p50_on_vs_off: '' },
          { op, auth: 'on (operator mode, JWT users)', ...sn, p50_on_vs_off: ratio },
        ];
      });
      writeBenchResult(
        'identity-auth-cost',
        rows,
        `Two systems in one run (nats-server open vs operator mode with every principal's minted JWT, full resolver), each with the hypervisor engine served on the bus, xenstored (NodeFileIO) on dom0's connection and two guests. Sequential, one request in flight, ${ROUNDS} interleaved rounds after ${WARMUP} warm-up ops. Goal: p50_on_vs_off <= 1.10.`,
      );
      for (const r of rows) expect(r.n).toBeGreaterThan(0);
    } finally {
      for (const s of systems) await s.close();
      tmp.remove();
    }
  });
});
