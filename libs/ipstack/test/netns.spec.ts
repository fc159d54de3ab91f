// Real Linux on the other end of the wire: the namespace's own ping, socat and kernel ARP talk to our stack
// through a TAP (see tap-netns.ts). Needs root; elsewhere the suite reports why and runs nothing.
import { waitFor } from '@dominion/testing';
import { IpStack, formatPing, type UdpDatagram } from '../src/index.js';
import { TapNetns, netnsUnavailable } from './tap-netns.js';

const unavailable = netnsUnavailable();

if (unavailable) {
  describe('IpStack against a Linux network namespace', () => {
    it.todo(`needs root, ip, socat and ping: ${unavailable}`);
  });
} else {
  describe('IpStack against a Linux network namespace', () => {
    let net: TapNetns;
    let stack: IpStack;
    let ours: string;

    beforeAll(async () => {
      net = await TapNetns.create((frame) => stack?.receive(frame));
      ours = `${net.subnet}.2`;
      stack = new IpStack({
        mac: '00:16:3e:4d:00:02',
        ipv4: ours,
        prefix: 24,
        send: (frame) => net.send(frame),
        arp: { retransMs: 200 },
      });
      stack.up();
    });

    afterAll(async () => {
      stack?.close();
      await net?.close();
    });

    it("answers the namespace's ping (ARP, then ICMP echo), and its ping of an empty address fails", async () => {
      const r = await net.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', ours]);
      expect(r.stdout).toContain('3 packets transmitted, 3 received, 0% packet loss');
      expect(r.stdout).toMatch(new RegExp(`64 bytes from ${ours.replace(/\./g, '\\.')}: icmp_seq=3 ttl=64 time=`));
      expect(r.code).toBe(0);
      const neigh = await net.exec(['ip', 'neigh', 'show', ours]);
      expect(neigh.stdout).toContain('lladdr 00:16:3e:4d:00:02');
      const nobody = await net.exec(['ping', '-c', '1', '-W', '1', `${net.subnet}.77`]);
      expect(nobody.code).toBe(1);
      expect(nobody.stdout).toContain('100% packet loss');
    });

    it('reassembles a fragmented 2000-byte ping from Linux and fragments the reply Linux reassembles', async () => {
      const before = { ...stack.counters.ip };
      const r = await net.exec(['ping', '-c', '1', '-W', '2', '-s', '2000', ours]);
      expect(r.stdout).toContain(`2008 bytes from ${ours}: icmp_seq=1`);
      expect(stack.counters.ip.ReasmOKs - before.ReasmOKs).toBe(1);
      expect(stack.counters.ip.FragCreates - before.FragCreates).toBe(2);
    });

    it('pings the namespace: 3 replies; an address nobody has gets 100% loss', async () => {
      const ok = await stack.ping(net.hostIp, { count: 3, intervalMs: 200, timeoutMs: 1000 });
      expect(ok).toMatchObject({ transmitted: 3, received: 3, loss: 0 });
      expect(ok.rtts).toHaveLength(3);
      const text = formatPing(ok);
      expect(text).toContain(`PING ${net.hostIp} (${net.hostIp}) 56(84) bytes of data.`);
      expect(text).toMatch(
        new RegExp(`64 bytes from ${net.hostIp.replace(/\./g, '\\.')}: icmp_seq=2 ttl=64 time=\\d+\\.\\d+ ms`),
      );
      expect(text).toContain('3 packets transmitted, 3 received, 0% packet loss');

      const lostBefore = stack.counters.arp.resolveFailed;
      const lost = await stack.ping(`${net.subnet}.99`, { count: 3, intervalMs: 200, timeoutMs: 1000 });
      expect(lost).toMatchObject({ transmitted: 3, received: 0, loss: 100 });
      expect(formatPing(lost)).toMatch(/3 packets transmitted, 0 received, (\+\d errors, )?100% packet loss/);
      expect(stack.counters.arp.resolveFailed).toBeGreaterThan(lostBefore);
    });

    it('carries UDP both ways with socat; a closed port answers port unreachable', async () => {
      const echo = stack.udpBind(7777, (d: UdpDatagram) =>
        echo.send(d.from, d.fromPort, Buffer.concat([Buffer.from('echo:'), d.payload])),
      );
      try {
        const r = await net.exec(['sh', '-c', `printf hello | socat -t 1 - UDP:${ours}:7777`]);
        expect(r.stdout).toBe('echo:hello');

        const closedBefore = stack.counters.udp.NoPorts;
        const refused = await net.exec(['sh', '-c', `printf hello | socat -t 2 - UDP:${ours}:7778`]);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain('Connection refused');
        expect(stack.counters.udp.NoPorts).toBe(closedBefore + 1);
      } finally {
        echo.close();
      }

      const listener = net.spawn(['socat', '-u', `UDP-RECV:9999,bind=${net.hostIp}`, 'STDOUT']);
      try {
        let got = '';
        listener.stdout!.on('data', (d: Buffer) => (got += d.toString()));
        const out = stack.udpBind(0, () => undefined);
        // The listener needs a moment to bind; resend until it shows the datagram.
        await waitFor(
          () => {
            out.send(net.hostIp, 9999, Buffer.from('from the guest\n'));
            return got.includes('from the guest');
          },
          5000,
          'socat in the namespace to receive our datagram',
        );
        out.close();
      } finally {
        listener.kill('SIGTERM');
      }
    });

    it('counts what it saw like ifconfig', () => {
      const text = stack.formatIfconfig();
      expect(text).toContain(`inet ${ours}  netmask 255.255.255.0  broadcast ${net.subnet}.255`);
      expect(stack.counters.link.rxPackets).toBeGreaterThan(10);
      expect(stack.counters.link.rxErrors).toBe(0);
      expect(stack.counters.udp.InCsumErrors).toBe(0);
    });
  });
}
