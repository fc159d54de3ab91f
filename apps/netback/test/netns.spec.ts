// Real Linux hosts on our bridges: three network namespaces, each with a TAP that netback's TAP uplink
// made (a supervised socat) and the test moved into the namespace. A and B share xenbr0 and ping each
// other with the kernel's own ping; C on xenbr1 cannot reach A; B's port has ip= and its frames from
// another address are dropped and counted. Needs root, ip, socat and ping; elsewhere the suite says why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { waitFor } from '@dominion/testing';
import { Bridges, TapUplink } from '../src/index.js';
import { Netns, netnsUnavailable, sh } from './netns.js';

const unavailable = netnsUnavailable();
const suffix = randomBytes(3).toString('hex');
const subnet = `10.78.${100 + (randomBytes(1)[0] % 100)}`;
const IP = { a: `${subnet}.1`, b: `${subnet}.2`, c: `${subnet}.3`, spoof: `${subnet}.9` };

if (unavailable) {
  describe('TAP uplinks with network namespaces', () => {
    it.todo(`needs root, ip, socat and ping: ${unavailable}`);
  });
} else {
  describe('TAP uplinks with network namespaces', () => {
    const bridges = new Bridges(['xenbr0', 'xenbr1']);
    const uplinks: TapUplink[] = [];
    const spaces: Netns[] = [];
    const taps = { a: `nbta${suffix}`, b: `nbtb${suffix}`, c: `nbtc${suffix}`, d: `nbtd${suffix}` };
    const ns: Record<'a' | 'b' | 'c', Netns> = {} as never;
    const up: Record<'a' | 'b' | 'c', TapUplink> = {} as never;

    beforeAll(async () => {
      const open = async (tap: string, bridge: string, ips?: string[]) => {
        const u = await TapUplink.open({ bridge: bridges.get(bridge), tap, port: { ips }, linkUp: false });
        uplinks.push(u);
        await u.whenUp();
        return u;
      };
      up.a = await open(taps.a, 'xenbr0');
      up.b = await open(taps.b, 'xenbr0', [IP.b]);
      up.c = await open(taps.c, 'xenbr1');
      for (const k of ['a', 'b', 'c'] as const) {
        ns[k] = await Netns.create(`dom-nb-${k}-${suffix}`);
        spaces.push(ns[k]);
        await ns[k].adoptTap(taps[k], `${IP[k]}/24`);
      }
    }, 60_000);

    afterAll(async () => {
      for (const u of uplinks) await u.close().catch(() => undefined);
      for (const n of spaces) await n.close();
      // A TAP that never made it into a namespace goes with its socat; make sure.
      for (const t of Object.values(taps)) if (existsSync(`/sys/class/net/${t}`)) await sh('ip', ['link', 'del', t]);
      bridges.close();
    }, 30_000);

    it('A pings B through xenbr0 while C on xenbr1 cannot reach A', async () => {
      const ab = await ns.a.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', IP.b]);
      expect(ab.stdout).toContain('3 packets transmitted, 3 received, 0% packet loss');
      expect(ab.code).toBe(0);

      const c0 = up.c.dgram.port.counters();
      const ca = await ns.c.exec(['ping', '-c', '2', '-i', '0.2', '-W', '1', IP.a]);
      expect(ca.code).toBe(1);
      expect(ca.stdout).toContain('100% packet loss');
      // C's ARP requests did reach xenbr1 (and went nowhere); xenbr0 never learned C.
      expect(up.c.dgram.port.counters().rxFrames).toBeGreaterThan(c0.rxFrames);
      const macC = await ns.c.mac(taps.c);
      const fdb0 = bridges
        .get('xenbr0')
        .switch.macTable(performance.now())
        .map((e) => e.mac);
      expect(fdb0).toEqual(expect.arrayContaining([await ns.a.mac(taps.a), await ns.b.mac(taps.b)]));
      expect(fdb0).not.toContain(macC);

      // And A and B still talk, in the same breath.
      const ba = await ns.b.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', IP.a]);
      expect(ba.stdout).toContain('2 packets transmitted, 2 received, 0% packet loss');
    }, 60_000);

    it("drops B's frames from an address other than its ip= (counted) while its own address passes", async () => {
      await ns.b.ip('addr', 'add', `${IP.spoof}/24`, 'dev', taps.b);
      const before = up.b.dgram.port.counters().drops['spoofed-ip'];
      const spoofed = await ns.b.exec(['ping', '-c', '2', '-i', '0.2', '-W', '1', '-I', IP.spoof, IP.a]);
      expect(spoofed.code).toBe(1);
      expect(spoofed.stdout).toContain('100% packet loss');
      expect(up.b.dgram.port.counters().drops['spoofed-ip']).toBeGreaterThanOrEqual(before + 2);

      const own = await ns.b.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', '-I', IP.b, IP.a]);
      expect(own.stdout).toContain('2 packets transmitted, 2 received, 0% packet loss');
    }, 60_000);

    it('restarts a socat that died, with a fresh TAP, and removes the TAP on close', async () => {
      const d = await TapUplink.open({
        bridge: bridges.get('xenbr1'),
        tap: taps.d,
        backoff: { initialMs: 50 },
      });
      uplinks.push(d);
      await d.whenUp();
      const first = d.pid!;
      process.kill(first, 'SIGKILL');
      await waitFor(() => d.restarts === 1 && d.pid !== undefined && d.pid !== first, 10_000, 'socat restarted');
      await d.whenUp();
      expect(existsSync(`/sys/class/net/${taps.d}`)).toBe(true);
      const second = d.pid!;
      await d.close();
      expect(existsSync(`/proc/${second}`)).toBe(false);
      await waitFor(() => !existsSync(`/sys/class/net/${taps.d}`), 5000, 'TAP removed');
    }, 60_000);
  });
}
