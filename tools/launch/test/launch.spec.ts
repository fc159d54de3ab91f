// `npm start`'s launcher, run as a user runs it (built output, real nats-server, real services): every
// domain comes up ready, XenStore answers the stock tools on the printed socket, and Ctrl-C stops it all.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import { tempDir, waitFor } from '@dominion/testing';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

interface Launched {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(home: string, env: Record<string, string> = {}): Launched {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, DOMINION_HOME: home, DOMINION_NATS_PORT: '0', DOMINION_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('launcher', () => {
  it('with DOMINION_NATS_AUTH=off: starts the hypervisor and dom0, serves xenstore-ls on the printed socket, and stops cleanly on SIGINT', async () => {
    const home = tempDir();
    const { child, output, exited } = launch(home.path, { DOMINION_NATS_AUTH: 'off' });
    let out = '';
    try {
      await waitFor(
        () => (out = output()).includes('Dominion is up.'),
        30000,
        `the launcher to come up; output so far:\n${output()}`,
      );
      expect(out).toMatch(/bus \(NATS\)\s+nats:\S+ \(no auth\)/);
      expect(out).toMatch(/launcher: xen is ready/);
      expect(out).toMatch(/launcher: dom0 is ready/);
      const socket = /XENSTORED_PATH=(\S+) xenstore-ls/.exec(out)?.[1];
      expect(socket).toBe(join(home.path, 'dom0', 'xenstored.socket'));
      const ls = execFileSync('xenstore-ls', ['/local/domain/0'], { env: { ...process.env, XENSTORED_PATH: socket } });
      expect(ls.toString()).toMatch(/^name = "Domain-0"$/m);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      home.remove();
    }
    expect(output()).toMatch(/dom0 stopping/);
  });

  it('runs the bus in operator mode: each domain logs in with its own credentials, and destroying it revokes them', async () => {
    const home = tempDir();
    const { child, output, exited } = launch(home.path);
    const conns: NatsConnection[] = [];
    const login = async (url: string, creds: string, inboxPrefix: string): Promise<NatsConnection> => {
      const nc = await connect({
        servers: url,
        authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
        inboxPrefix,
        reconnectTimeWait: 100,
      });
      conns.push(nc);
      return nc;
    };
    try {
      await waitFor(() => output().includes('Dominion is up.'), 30000, `the launcher to come up:\n${output()}`);
      expect(output()).toMatch(/launcher: dom0 is ready/);
      const url = /bus \(NATS\)\s+(nats:\/\/\S+) \(operator mode/.exec(output())?.[1] ?? '';
      expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(mode(join(home.path, 'identity'))).toBe(0o700);
      expect(mode(join(home.path, 'identity', 'identity.json'))).toBe(0o600);
      expect(mode(join(home.path, 'creds', 'dom0.creds'))).toBe(0o600);
      expect(mode(join(home.path, 'creds', 'xen.creds'))).toBe(0o600);
      // What xl reads to find the bus as dom0.
      expect(JSON.parse(readFileSync(join(home.path, 'bus.json'), 'utf8'))).toEqual({
        url,
        creds: join(home.path, 'creds', 'dom0.creds'),
        inboxPrefix: '_INBOX.dom0',
      });

      // No credentials, no connection; dom0's own credentials are accepted beside it.
      await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(/authorization/i);
      const dom0 = await login(url, readFileSync(join(home.path, 'creds', 'dom0.creds'), 'utf8'), '_INBOX.dom0');
      const hv0 = new HypervisorClient(dom0, 0);
      type Created = { domid: number; credentials?: { creds: string; inbox_prefix: string } };
      const a = (await hv0.call('createdomain', { name: 'guest-a', target_memkb: 65536 })) as Created;
      const b = (await hv0.call('createdomain', { name: 'guest-b', target_memkb: 65536 })) as Created;
      expect(a.credentials?.inbox_prefix).toBe(`_INBOX.dom${a.domid}`);
      expect(a.credentials?.creds).toMatch(/BEGIN NATS USER JWT/);

      const guest = await login(url, a.credentials?.creds ?? '', a.credentials?.inbox_prefix ?? '');
      const hvA = new HypervisorClient(guest, a.domid);
      await expect(hvA.getDomainInfo()).resolves.toMatchObject({ domid: a.domid, name: 'guest-a' });
      // The same hypercall as the other guest is refused by the server itself.
      await expect(new HypervisorClient(guest, b.domid).getDomainInfo()).rejects.toMatchObject({ kind: 'EACCES' });

      // Its console output reaches dom0 (xenconsoled's right) while it is alive...
      const seen: string[] = [];
      dom0.subscribe(subjects.console(a.domid, 'out'), {
        callback: (_e, m) => {
          seen.push(m.string());
        },
      });
      await dom0.flush();
      guest.publish(subjects.console(a.domid, 'out'), 'alive');
      await waitFor(() => seen.includes('alive'), 2000, 'the live guest console line');

      // ...and within a second of destroydomain its connection is cut off and its credentials refused.
      const status: string[] = [];
      void (async () => {
        for await (const st of guest.status()) status.push(`${st.type} ${'error' in st ? String(st.error) : ''}`);
      })();
      const t0 = Date.now();
      await hv0.destroyDomain(a.domid);
      await waitFor(
        () => guest.isClosed() || status.some((st) => /^disconnect|revoked/i.test(st)),
        1000,
        `the destroyed domain to be cut off (status: ${status.join('; ')})`,
      );
      expect(Date.now() - t0).toBeLessThan(1000);
      try {
        guest.publish(subjects.console(a.domid, 'out'), 'dead');
      } catch {
        /* a closed connection refuses outright */
      }
      await expect(
        connect({
          servers: url,
          authenticator: credsAuthenticator(new TextEncoder().encode(a.credentials?.creds ?? '')),
          inboxPrefix: a.credentials?.inbox_prefix,
          reconnect: false,
        }),
      ).rejects.toThrow(/authorization|revoked/i);
      // The other guest's credentials still work beside the revoked ones.
      const other = await login(url, b.credentials?.creds ?? '', b.credentials?.inbox_prefix ?? '');
      await expect(new HypervisorClient(other, b.domid).getDomainInfo()).resolves.toMatchObject({ domid: b.domid });
      await dom0.flush();
      expect(seen).toEqual(['alive']);
    } finally {
      for (const nc of conns) if (!nc.isClosed()) await nc.close();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(existsSync(join(home.path, 'bus.json'))).toBe(false);
      home.remove();
    }
  });

  it("revokes the previous start's dom0 and hypervisor credentials at each start; the new ones work", async () => {
    const home = tempDir();
    const creds = (name: string): string => readFileSync(join(home.path, 'creds', `${name}.creds`), 'utf8');
    const url = (out: string): string => /bus \(NATS\)\s+(nats:\/\/\S+) \(operator mode/.exec(out)?.[1] ?? '';
    const loginWith = (u: string, c: string, inboxPrefix: string): Promise<NatsConnection> =>
      connect({
        servers: u,
        authenticator: credsAuthenticator(new TextEncoder().encode(c)),
        inboxPrefix,
        reconnect: false,
      });
    const first = launch(home.path);
    let second: Launched | undefined;
    try {
      await waitFor(() => first.output().includes('Dominion is up.'), 30000, `the first start:\n${first.output()}`);
      const oldDom0 = creds('dom0');
      const oldXen = creds('xen');
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);

      second = launch(home.path);
      const s = second;
      await waitFor(() => s.output().includes('Dominion is up.'), 30000, `the second start:\n${s.output()}`);
      const u = url(s.output());
      expect(creds('dom0')).not.toBe(oldDom0);
      await expect(loginWith(u, oldDom0, '_INBOX.dom0')).rejects.toThrow(/authorization/i);
      await expect(loginWith(u, oldXen, '_INBOX.xen')).rejects.toThrow(/authorization/i);
      const dom0 = await loginWith(u, creds('dom0'), '_INBOX.dom0');
      try {
        const hv0 = new HypervisorClient(dom0, 0);
        await expect(hv0.getDomainInfo()).resolves.toMatchObject({ domid: 0, name: 'Domain-0' });
        // The hypervisor vouches for this start's dom0 key (getdomainkey), not the revoked one.
        const jwt = /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n/.exec(creds('dom0'))?.[1] ?? '';
        const sub = (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string })
          .sub;
        expect(await hv0.getDomainKey(0)).toBe(sub);
      } finally {
        await dom0.close();
      }
      const xen = await loginWith(u, creds('xen'), '_INBOX.xen');
      await xen.close();
    } finally {
      for (const l of [first, second]) {
        if (!l || l.child.exitCode !== null) continue;
        l.child.kill('SIGINT');
        expect(await l.exited).toBe(0);
      }
      home.remove();
    }
  });
});
