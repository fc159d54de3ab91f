// The guest service itself with a vif: GuestService starts a netfront for device/vif/0 before its kernel,
// and the minios shell on the console (NATS) configures and uses it, against the real netback child and a
// second guest made of netfront objects.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { subjects } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { GuestModule } from '../src/guest.module.js';
import { GuestService } from '../src/guest.service.js';
import { MINIOS_PROMPT } from '../src/minios.js';
import { NOAUTH_RING_KEY } from '@dominion/identity';
import { NetWorld, type TestGuest } from './netfront-world.js';

describe('the guest service with a vif', () => {
  let w: NetWorld;
  let peer: TestGuest;
  let app: TestingModule;
  let domid: number;
  const out: string[] = [];

  beforeAll(async () => {
    w = await NetWorld.start();
    await w.startNetback();
    peer = await w.guest('peer', ['mac=00:16:3e:00:07:02,bridge=xenbr0,ip=10.0.7.2']);
    domid = await w.domain('svc');
    // No credentials here: the service signs its ring proofs with the NOAUTH seed, so that is its key.
    w.setKey(domid, NOAUTH_RING_KEY);
    await w.dom0.write(`/local/domain/${domid}/memory/target`, '65536');
    await w.dom0.mkdir(`/local/domain/${domid}/control`);
    await w.dom0.setPerms(`/local/domain/${domid}/control`, [{ domid, perm: 'b' }]);
    // No ip= key: the address is set by hand in the shell.
    await w.attachVif(domid, 0, 'mac=00:16:3e:00:07:01,bridge=xenbr0');
    w.nc.subscribe(subjects.console(domid, 'out'), { callback: (_e, m) => void out.push(m.string()) });
    await w.nc.flush();
    @Module({
      imports: [
        GuestModule.forRoot({
          env: { DOMINION_NATS_URL: w.srv.url, DOMINION_DOMID: String(domid), DOMINION_LOG_LEVEL: 'silent' },
        }),
      ],
    })
    class Svc {}
    app = await Test.createTestingModule({ imports: [Svc] }).compile();
    await app.init();
    await app.get(GuestService).net!.all[0].whenConnected();
    await peer.nics[0].whenConnected();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await w?.stop();
  });

  const type = async (line: string): Promise<string> => {
    const from = out.join('').length;
    w.nc.publish(subjects.console(domid, 'in'), line);
    return (await waitFor(
      () => {
        const s = out.join('').slice(from);
        return s.endsWith(MINIOS_PROMPT) && s.includes('\n') ? s : undefined;
      },
      10_000,
      `the answer to ${line}`,
    ))!;
  };

  it('ifconfig by hand, then ping and nc -u to a guest on the same bridge', async () => {
    expect(await type('ifconfig eth0')).toMatch(
      /^ifconfig eth0\neth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST> {2}mtu 1500\n\s+ether 00:16:3e:00:07:01/,
    );
    expect(await type('ifconfig eth0 10.0.7.1/24 up')).toBe(`ifconfig eth0 10.0.7.1/24 up\n${MINIOS_PROMPT}`);
    expect(await type('ping -c 2 -i 0.05 10.0.7.2')).toMatch(/2 packets transmitted, 2 received, 0% packet loss/);
    const got: string[] = [];
    const sock = peer.nics[0].ip.udpBind(7000, (d) => got.push(`${d.from} ${d.payload.toString()}`));
    await type('nc -u 10.0.7.2 7000 hi');
    await waitFor(() => got.length === 1, 5000, 'the datagram');
    expect(got).toEqual(['10.0.7.1 hi\n']);
    sock.close();
    expect(await type('help')).toContain('nc -u -l <port>');
  }, 20_000);
});
