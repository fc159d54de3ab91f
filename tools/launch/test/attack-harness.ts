// The running system for attack tests: the built launcher (nats-server in operator mode, the hypervisor, dom0)
// in a fresh home, a dom0 connection of the test's own, and guests created as the toolstack creates them
// (createdomain as dom0, the home written with libxl's permissions, XS_INTRODUCE), each logged in with the
// credentials the hypervisor minted for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { HypervisorClient } from '@dominion/hypervisor';
import { XenstoreClient } from '@dominion/xenstore';
import { tempDir, waitFor } from '@dominion/testing';

const launcherMain = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

export interface Login {
  nc: NatsConnection;
  /** Server errors this connection received (permission violations). */
  errors: Error[];
  /** Resolves once the server refused `operation` on `subject` to this connection. */
  violation(operation: 'publish' | 'subscription', subject: string): Promise<void>;
}

export interface Guest extends Login {
  domid: number;
  hv: HypervisorClient;
  xs: XenstoreClient;
  creds: string;
  inboxPrefix: string;
}

export interface RunningSystem {
  url: string;
  dom0: Login;
  hv0: HypervisorClient;
  xs0: XenstoreClient;
  login(creds: string, inboxPrefix: string): Promise<Login>;
  /** A guest as `xl create` makes it, logged in with its own credentials. */
  createGuest(name: string): Promise<Guest>;
  output(): string;
  stop(): Promise<void>;
}

function watch(nc: NatsConnection): Login {
  const errors: Error[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error);
  })();
  return {
    nc,
    errors,
    violation: async (operation, subject) => {
      await waitFor(
        () =>
          errors.some((e) => {
            const pe = e as { name?: string; operation?: string; subject?: string };
            return pe.name === 'PermissionViolationError' && pe.operation === operation && pe.subject === subject;
          }),
        3000,
        `a ${operation} violation on ${subject} (errors: ${errors.map((e) => e.message).join('; ')})`,
      );
    },
  };
}

export async function startRunningSystem(prefix: string): Promise<RunningSystem> {
  const home = tempDir(prefix);
  let out = '';
  const launcher: ChildProcess = spawn(process.execPath, [launcherMain], {
    env: { ...process.env, DOMINION_HOME: home.path, DOMINION_NATS_PORT: '0', DOMINION_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  launcher.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
  const conns: NatsConnection[] = [];
  const clients: XenstoreClient[] = [];
  const login = async (creds: string, inboxPrefix: string): Promise<Login> => {
    const nc = await connect({
      servers: url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix,
      reconnect: false,
    });
    conns.push(nc);
    return watch(nc);
  };
  let url = '';
  try {
    await waitFor(() => out.includes('Dominion is up.'), 30000, `the launcher to come up:\n${out}`);
  } catch (e) {
    launcher.kill('SIGINT');
    await exited;
    home.remove();
    throw e;
  }
  const bus = JSON.parse(readFileSync(join(home.path, 'bus.json'), 'utf8')) as {
    url: string;
    creds: string;
    inboxPrefix: string;
  };
  url = bus.url;
  const dom0 = await login(readFileSync(bus.creds, 'utf8'), bus.inboxPrefix);
  const hv0 = new HypervisorClient(dom0.nc, 0);
  const xs0 = new XenstoreClient(dom0.nc, { domid: 0 });
  clients.push(xs0);
  let gfn = 0x1000;
  return {
    url,
    dom0,
    hv0,
    xs0,
    login,
    output: () => out,
    createGuest: async (name) => {
      const r = (await hv0.call('createdomain', { name, target_memkb: 32768 })) as {
        domid: number;
        credentials?: { creds: string; inbox_prefix: string };
      };
      const { domid } = r;
      const home = `/local/domain/${domid}`;
      // libxl's home: dom0's, the guest reading it; data/ the guest's own (libs/toolstack domainHomeWrites).
      await xs0.write(`${home}/name`, name);
      await xs0.setPerms(home, ['n0', `r${domid}`]);
      await xs0.setPerms(`${home}/name`, ['n0', `r${domid}`]);
      await xs0.write(`${home}/data`, '');
      await xs0.setPerms(`${home}/data`, [`n${domid}`]);
      await xs0.introduce(domid, gfn++, 1);
      const creds = r.credentials?.creds ?? '';
      const inboxPrefix = r.credentials?.inbox_prefix ?? '';
      const l = await login(creds, inboxPrefix);
      const xs = new XenstoreClient(l.nc, { domid });
      clients.push(xs);
      return { ...l, domid, hv: new HypervisorClient(l.nc, domid), xs, creds, inboxPrefix };
    },
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      for (const nc of conns) if (!nc.isClosed()) await nc.close();
      launcher.kill('SIGINT');
      await exited;
      home.remove();
    },
  };
}
