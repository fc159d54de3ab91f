// netfront end to end: guests' real netfronts (XenbusFrontend handshake, granted ring pages, event
// channels, ring streams with proofs verified against the hypervisor's keys) on the real net driver domain
// (apps/netback as a child process), over a real nats-server and xenstored.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { waitFor } from '@dominion/testing';
import type { GuestApi } from '../src/kernel.js';
import { MINIOS_PROMPT, createMinios } from '../src/minios.js';
import { NETBACK_MAIN, NetWorld, type TestGuest } from './netfront-world.js';

/** minios over a test guest's netfronts; `run` types a line and returns what it printed. */
function shell(g: TestGuest) {
  let text = '';
  const api: GuestApi = {
    domid: g.domid,
    console: { write: (t) => void (text += t) },
    xenstore: { read: (p) => g.xs.read(p), write: (p, v) => g.xs.write(p, v), directory: (p) => g.xs.directory(p) },
    memory: { usedKiB: () => 0 },
    shutdown: async () => undefined,
    uptime: () => 1,
    net: { stacks: () => g.nics.map((n) => n.ip) },
  };
  const k = createMinios();
  void k.start(api);
  return {
    output: () => text,
    async run(line: string): Promise<string> {
      text = '';
      await k.input(line);
      return text.slice(line.length + 1, text.length - MINIOS_PROMPT.length);
    },
  };
}

const fast = { intervalMs: 50, timeoutMs: 500 };

describe('netfront on the real netback', () => {
  let w: NetWorld;
  let a: TestGuest;
  let b: TestGuest;
  let c: TestGuest;

  beforeAll(async () => {
    if (!existsSync(NETBACK_MAIN)) throw new Error(`${NETBACK_MAIN} is missing: build apps/netback first`);
    w = await NetWorld.start();
    await w.startNetback();
    a = await w.guest('a', ['mac=00:16:3e:00:00:0a,bridge=xenbr0,ip=10.0.0.1']);
    b = await w.guest('b', ['mac=00:16:3e:00:00:0b,bridge=xenbr0,ip=10.0.0.2']);
    c = await w.guest('c', ['mac=00:16:3e:00:00:0c,bridge=xenbr1,ip=10.0.0.3']);
    for (const g of [a, b, c]) await g.nics[0].whenConnected();
  }, 30_000);

  afterAll(async () => {
    await w?.stop();
  });

  it('writes the vif handshake keys and takes its address from ip=', async () => {
    const fe = `/local/domain/${a.domid}/device/vif/0`;
    expect(await a.xs.read(`${fe}/state`)).toBe('4');
    expect(await a.xs.read(`${fe}/request-rx-copy`)).toBe('1');
    expect(await a.xs.read(`${fe}/feature-rx-notify`)).toBe('1');
    const txRef = Number(await a.xs.read(`${fe}/tx-ring-ref`));
    const rxRef = Number(await a.xs.read(`${fe}/rx-ring-ref`));
    // Real grants of the guest's pages to the net driver domain.
    expect(a.grants.get(txRef)?.domid).toBe(w.netbackDomid);
    expect(a.grants.get(rxRef)?.domid).toBe(w.netbackDomid);
    const port = Number(await a.xs.read(`${fe}/event-channel`));
    expect((await a.hv.evtchnStatus(port)).status).toBeDefined();
    const be = await a.xs.read(`${fe}/backend`);
    expect(await a.xs.read(`${be}/grpc-endpoint`)).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    expect(a.nics[0].ip.state).toMatchObject({ name: 'eth0', mac: '00:16:3e:00:00:0a', ipv4: '10.0.0.1', up: true });
  });

  it('two guests on xenbr0 ping each other; a guest on xenbr1 reaches neither', async () => {
    const ab = await a.nics[0].ip.ping('10.0.0.2', { count: 3, ...fast });
    const ba = await b.nics[0].ip.ping('10.0.0.1', { count: 3, ...fast });
    expect(ab.received).toBe(3);
    expect(ba.received).toBe(3);
    expect(a.nics[0].ip.arpEntries().map((e) => [e.ip, e.mac])).toContainEqual(['10.0.0.2', '00:16:3e:00:00:0b']);
    // Same subnet, other bridge: ARP never gets across.
    const cb = await c.nics[0].ip.ping('10.0.0.2', { count: 2, ...fast });
    expect(cb.received).toBe(0);
    expect(cb.loss).toBe(100);
  }, 20_000);

  it('carries UDP both ways, and frames that span several slots and buffers', async () => {
    const got: string[] = [];
    const sock = b.nics[0].ip.udpBind(9000, (d) =>
      got.push(`${d.from}:${d.payload.length}:${d.payload[d.payload.length - 1]}`),
    );
    const out = a.nics[0].ip.udpBind(0, () => undefined);
    out.send('10.0.0.2', 9000, Buffer.from('hello\n'));
    // 9000 bytes: fragmented by IP at the 1500 MTU; each fragment one frame on the ring.
    const big = Buffer.alloc(9000, 7);
    out.send('10.0.0.2', 9000, big);
    await waitFor(() => got.length === 2, 5000, 'two datagrams');
    expect(got).toEqual([`10.0.0.1:6:${'\n'.charCodeAt(0)}`, '10.0.0.1:9000:7']);
    sock.close();
    out.close();
  });

  it('a starved guest (no rx buffer posted) loses its frames, beside a fed one', async () => {
    const d = await w.guest('d', ['mac=00:16:3e:00:00:0d,bridge=xenbr0,ip=10.0.0.4'], { rxBuffers: 0 });
    await d.nics[0].whenConnected();
    const ad = await a.nics[0].ip.ping('10.0.0.4', { count: 2, ...fast });
    const ab = await a.nics[0].ip.ping('10.0.0.2', { count: 2, ...fast });
    expect(ad.received).toBe(0);
    expect(ab.received).toBe(2);
    // D's own frames still go out: B learned D's address from its ARP requests.
    await d.nics[0].ip.ping('10.0.0.2', { count: 1, ...fast });
    expect(b.nics[0].ip.arpEntries().map((e) => e.ip)).toContain('10.0.0.4');
  }, 20_000);

  it('the minios shell: ifconfig, ping, arp and nc -u over netfront', async () => {
    const sa = shell(a);
    const sb = shell(b);
    const sc = shell(c);
    expect(await sa.run('ifconfig eth0')).toMatch(
      /^eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST> {2}mtu 1500\n\s+inet 10\.0\.0\.1 {2}netmask 255\.255\.255\.0 {2}broadcast 10\.0\.0\.255\n\s+ether 00:16:3e:00:00:0a/,
    );
    const ping = await sa.run('ping -c 2 -i 0.05 10.0.0.2');
    expect(ping).toMatch(
      /^PING 10\.0\.0\.2 \(10\.0\.0\.2\) 56\(84\) bytes of data\.\n64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64 time=/,
    );
    expect(ping).toMatch(/\n--- 10\.0\.0\.2 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss/);
    expect(await sa.run('arp')).toMatch(/10\.0\.0\.2\s+ether\s+00:16:3e:00:00:0b\s+C\s+eth0/);
    expect(await sb.run('nc -u -l 9100')).toBe('');
    expect(await sa.run('nc -u 10.0.0.2 9100 hello from a')).toBe('');
    await waitFor(() => sb.output().includes('hello from a\n'), 5000, 'the line at b');
    expect(await sa.run('ifconfig eth9')).toBe('eth9: error fetching interface information: Device not found\n');
    expect(await sc.run('ifconfig eth0 10.0.1.3/16')).toBe('');
    expect(c.nics[0].ip.state).toMatchObject({ ipv4: '10.0.1.3', netmask: '255.255.0.0', up: true });
    expect(await sc.run('ping -c 1 -W 0.2 10.0.0.2')).toMatch(/1 packets transmitted, 0 received, 100% packet loss/);
  }, 20_000);

  it('netback kill -9 and restart: the frontends reconnect and pinging resumes', async () => {
    expect((await a.nics[0].ip.ping('10.0.0.2', { count: 1, ...fast })).received).toBe(1);
    const connects = a.nics[0].counters.connects;
    const killedAt = Date.now();
    await w.killNetback();
    const during = await a.nics[0].ip.ping('10.0.0.2', { count: 1, ...fast });
    expect(during.received).toBe(0);
    await w.startNetback();
    let resumedAt = 0;
    for (let i = 0; i < 100 && resumedAt === 0; i++) {
      const r = await a.nics[0].ip.ping('10.0.0.2', { count: 1, intervalMs: 50, timeoutMs: 100 });
      if (r.received === 1) resumedAt = Date.now();
    }
    if (!resumedAt) console.log(w.frontendLog.slice(-40).join('\n'));
    expect(resumedAt).toBeGreaterThan(0);
    expect(a.nics[0].counters.connects).toBeGreaterThan(connects);
    const back = await b.nics[0].ip.ping('10.0.0.1', { count: 3, ...fast });
    expect(back.received).toBe(3);
    console.log(`netback kill -9 -> restart -> ping a->b answered again: outage ${resumedAt - killedAt} ms`);
  }, 40_000);

  it('a new driver domain under a new domid: the toolstack moves the vifs, the frontends follow', async () => {
    const old = w.netbackDomid;
    await w.killNetback();
    await w.replaceNetback('netback2');
    await w.startNetback();
    expect(w.netbackDomid).not.toBe(old);
    await waitFor(
      async () => (await a.nics[0].ip.ping('10.0.0.2', { count: 1, intervalMs: 50, timeoutMs: 200 })).received === 1,
      15_000,
      'a reaches b through netback2',
    ).catch((e: unknown) => {
      console.log(w.frontendLog.slice(-30).join('\n'), w.netbackLog.slice(-3000));
      throw e;
    });
    const fe = `/local/domain/${a.domid}/device/vif/0`;
    expect(await a.xs.read(`${fe}/backend-id`)).toBe(String(w.netbackDomid));
    expect(a.grants.get(Number(await a.xs.read(`${fe}/tx-ring-ref`)))?.domid).toBe(w.netbackDomid);
    expect((await b.nics[0].ip.ping('10.0.0.1', { count: 2, ...fast })).received).toBe(2);
  }, 40_000);
});
