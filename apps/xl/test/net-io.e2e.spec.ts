// The net path as a user walks it: `xl create examples/netback.cfg` starts the net driver domain with the
// bridges xenbr0 and xenbr1 (DOMINION_NETBACK_BRIDGES, which reaches netback through dom0's environment),
// minios guests get vifs from it (`vif = ['bridge=..., ip=...']`), and what their shells do through
// `xl console` (ping, ifconfig) shows delivery on a bridge, isolation between bridges, the `ip=`
// anti-spoofing with its counters, and pinging that resumes after netback is killed with SIGKILL and the
// toolstack restarts it under a new domid.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { repo, startDominion, type Dominion } from './dominion-e2e.js';
import { attachConsole, type GuestConsole } from './guest-console.js';

const netbackCfg = join(repo, 'examples', 'netback.cfg');

/** The guests: name, bridge, the address xl's ip= gives them. */
const GUESTS = [
  { name: 'neta', bridge: 'xenbr0', ip: '10.0.0.1' },
  { name: 'netb', bridge: 'xenbr0', ip: '10.0.0.2' },
  { name: 'netc', bridge: 'xenbr1', ip: '10.0.0.3' },
  { name: 'nets', bridge: 'xenbr0', ip: '10.0.0.4' },
] as const;

/** `N packets transmitted, M received` of a ping's summary. */
function pingCounts(out: string): { transmitted: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in:\n${out}`);
  return { transmitted: Number(m[1]), received: Number(m[2]) };
}

/** `RX packets N` / `TX packets N` of ifconfig. */
function ifCounters(out: string): { rx: number; tx: number } {
  const rx = /RX packets (\d+)/.exec(out);
  const tx = /TX packets (\d+)/.exec(out);
  if (!rx || !tx) throw new Error(`no packet counters in:\n${out}`);
  return { rx: Number(rx[1]), tx: Number(tx[1]) };
}

describe('the net path through xl and the guest consoles (end to end)', () => {
  let dominion: Dominion;
  let nb: number;
  const con: Record<string, GuestConsole> = {};
  const savedBridges = process.env.DOMINION_NETBACK_BRIDGES;
  const xl = (...args: string[]) => dominion.xl(...args);
  const domid = async (name: string): Promise<number | undefined> =>
    (await dominion.hv.listDomains()).find((d) => d.name === name)?.domid;
  const netbackLog = () => readFileSync(join(dominion.home.path, 'dom0', 'logs', 'netback.log'), 'utf8');

  /** Waits until `xl network-list` shows the guest's vif Connected (state 4). */
  const connected = (name: string) =>
    waitFor(
      async () => / {5}4 /.test((await xl('network-list', name)).stdout.split('\n')[1] ?? ''),
      15000,
      `the vif of ${name} to connect`,
    );

  beforeAll(async () => {
    // dom0 passes its environment on to the domains it launches: netback gets both bridges.
    process.env.DOMINION_NETBACK_BRIDGES = 'xenbr0,xenbr1';
    dominion = await startDominion('dominion-xl-net-io-');
    expect(await xl('create', netbackCfg)).toMatchObject({ code: 0 });
    nb = (await domid('netback'))!;
    for (const g of GUESTS) {
      const cfg = join(dominion.home.path, `${g.name}.cfg`);
      writeFileSync(
        cfg,
        `name = "${g.name}"\nkernel = "builtin:minios"\nmemory = 32\nvif = [ 'bridge=${g.bridge}, ip=${g.ip}' ]\n`,
      );
      expect(await xl('create', cfg)).toMatchObject({ code: 0, stderr: `Parsing config from ${cfg}\n` });
    }
    for (const g of GUESTS) await connected(g.name);
    for (const g of GUESTS) con[g.name] = await attachConsole(dominion, g.name);
  }, 90000);

  afterAll(async () => {
    if (savedBridges === undefined) delete process.env.DOMINION_NETBACK_BRIDGES;
    else process.env.DOMINION_NETBACK_BRIDGES = savedBridges;
    for (const c of Object.values(con)) expect(await c.detach()).toBe(0);
    expect(await dominion?.stop()).toBe(0);
  });

  it('guest A pings guest B on xenbr0', async () => {
    const out = await con.neta.run('ping -c 3 -i 0.2 10.0.0.2');
    expect(out).toMatch(/^PING 10\.0\.0\.2 \(10\.0\.0\.2\) 56\(84\) bytes of data\.\n/);
    expect(out).toMatch(/64 bytes from 10\.0\.0\.2: icmp_seq=3 ttl=64 time=/);
    expect(out).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
  });

  it('nc -u -c sends a load of datagrams that nc -u -l -c counts on the other guest', async () => {
    const counting = con.neta.run('nc -u -l -c 50 -w 2 5002');
    await new Promise((r) => setTimeout(r, 200)); // the port is bound
    expect(await con.netb.run('nc -u -c 50 -s 100 10.0.0.1 5002')).toMatch(
      /^sent 50 datagrams, 5000 bytes in [\d.]+ ms\n$/,
    );
    expect(await counting).toMatch(/^received 50 datagrams, 5000 bytes in [\d.]+ ms\n$/);
  });

  it('xl network-list prints each vif, Connected, served by netback', async () => {
    const header = 'Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       \n';
    for (const g of GUESTS) {
      const id = (await domid(g.name))!;
      const out = await xl('network-list', g.name);
      expect(out).toMatchObject({ code: 0, stderr: '' });
      expect(out.stdout.startsWith(header)).toBe(true);
      expect(out.stdout.slice(header.length).trimEnd()).toMatch(
        new RegExp(
          `^0   ${String(nb).padEnd(2)} 00:16:3e(:[0-9a-f]{2}){3}     0     4 +\\d+ +\\d+/\\d+ +/local/domain/${nb}/backend/vif/${id}/0$`,
        ),
      );
    }
  });

  it('a guest on xenbr1 cannot reach A on xenbr0, while B on xenbr0 can', async () => {
    const isolated = await con.netc.run('ping -c 2 -i 0.2 -W 1 10.0.0.1');
    expect(pingCounts(isolated)).toEqual({ transmitted: 2, received: 0 });
    expect(isolated).toMatch(/100% packet loss/);
    const beside = await con.netb.run('ping -c 2 -i 0.2 10.0.0.1');
    expect(pingCounts(beside)).toEqual({ transmitted: 2, received: 2 });
  });

  it('ip= anti-spoofing: another address set by hand gets no replies (counted by netback), its own address works', async () => {
    const before = ifCounters(await con.nets.run('ifconfig eth0'));
    expect(await con.nets.run('ifconfig eth0 10.0.0.99/24')).toBe('');
    const spoofed = await con.nets.run('ping -c 3 -i 0.2 -W 1 10.0.0.1');
    expect(pingCounts(spoofed)).toEqual({ transmitted: 3, received: 0 });
    const during = ifCounters(await con.nets.run('ifconfig eth0'));
    // the guest sent (ARP requests at least), nothing came back
    expect(during.tx).toBeGreaterThan(before.tx);
    expect(during.rx).toBe(before.rx);
    // netback dropped and counted them on the vif (its counter, in its log)
    await waitFor(() => /vif\d+\.0: frame from the guest dropped: spoofed-ip/.test(netbackLog()), 5000, 'the drop log');
    const counts = [...netbackLog().matchAll(/spoofed-ip \((\d+) so far\)/g)].map((m) => Number(m[1]));
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(2);

    expect(await con.nets.run('ifconfig eth0 10.0.0.4/24')).toBe('');
    const own = await con.nets.run('ping -c 3 -i 0.2 10.0.0.1');
    expect(pingCounts(own)).toEqual({ transmitted: 3, received: 3 });
    expect(ifCounters(await con.nets.run('ifconfig eth0')).rx).toBeGreaterThan(during.rx);
  });

  it('kill -9 of netback while A pings B: the toolstack restarts it, pinging resumes; the outage is reported', async () => {
    const { domains } = await busRequest<{ domains: { domid: number; pid?: number }[] }>(
      dominion.nc,
      subjects.toolstack(0, 'list'),
      {},
      { timeoutMs: 5000 },
    );
    const pid = domains.find((d) => d.domid === nb)!.pid!;
    const intervalMs = 100;
    const count = 80;
    const ping = con.neta.run(`ping -c ${count} -i ${intervalMs / 1000} -W 1 10.0.0.2`, 60000);
    // a second into the run: a few replies in, then netback dies
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => ![undefined, nb].includes(await domid('netback')), 20000, 'netback to be restarted');
    const restartedAt = Date.now();
    const out = await ping;
    const nb2 = (await domid('netback'))!;
    expect(nb2).not.toBe(nb);

    const seqs = [...out.matchAll(/icmp_seq=(\d+) ttl=/g)].map((m) => Number(m[1]));
    // the longest run of lost sequence numbers is the outage
    let gap = 0;
    let at = 0;
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] - seqs[i - 1] - 1 > gap) {
        gap = seqs[i] - seqs[i - 1] - 1;
        at = seqs[i - 1];
      }
    }
    expect(seqs[0]).toBeLessThanOrEqual(5); // answered before the kill
    expect(gap).toBeGreaterThan(0); // the kill was felt
    expect(seqs[seqs.length - 1]).toBe(count); // and pinging resumed to the end
    const { transmitted, received } = pingCounts(out);
    console.log(
      `netback kill -9 under a guest ping: ${gap} echo requests lost after icmp_seq=${at} ` +
        `(about ${gap * intervalMs} ms at ${intervalMs} ms intervals; the new netback domain existed ` +
        `${restartedAt - killedAt} ms after the kill); ${received}/${transmitted} answered`,
    );
    nb = nb2;
    // every vif follows the new netback
    for (const g of GUESTS) await connected(g.name);
    expect(pingCounts(await con.netb.run('ping -c 2 -i 0.2 10.0.0.1'))).toEqual({ transmitted: 2, received: 2 });
  }, 90000);
});
