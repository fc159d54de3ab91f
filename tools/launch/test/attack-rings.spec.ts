// Attack tests on the running system (issue 3), the event-channel and credential cases: a guest binding a
// port another domain offered to someone else, and a destroyed domain still using its credentials. Each
// refusal stands next to the same action done by the rightful domain (or before destroy) succeeding.
// The ring-stream case (another guest's VBD) needs a block backend, which the launcher does not start; it
// is proven on blkback's own stack in apps/blkback/test/vbd.spec.ts.
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { HypervisorClient } from '@dominion/hypervisor';
import { XenstoreClient } from '@dominion/xenstore';
import { waitFor } from '@dominion/testing';
import { startRunningSystem, type Guest, type RunningSystem } from './attack-harness.js';

describe('a guest attacking event channels and a destroyed domain reusing its credentials', () => {
  let sys: RunningSystem;
  let attacker: Guest;
  let victim: Guest;
  let other: Guest;

  beforeAll(async () => {
    sys = await startRunningSystem('attack-rings-');
    attacker = await sys.createGuest('attacker');
    victim = await sys.createGuest('victim');
    other = await sys.createGuest('other');
  }, 60000);
  afterAll(async () => {
    await sys?.stop();
  });

  it('binding an event channel offered to another domain is EINVAL; the domain it was offered to binds it', async () => {
    const forOther = await victim.hv.evtchnAllocUnbound(other.domid);
    await expect(attacker.hv.evtchnBindInterdomain(victim.domid, forOther)).rejects.toMatchObject({ kind: 'EINVAL' });
    // A port the victim never opened is EINVAL too.
    await expect(attacker.hv.evtchnBindInterdomain(victim.domid, forOther + 100)).rejects.toMatchObject({
      kind: 'EINVAL',
    });
    // A port offered to the attacker itself binds.
    const forAttacker = await victim.hv.evtchnAllocUnbound(attacker.domid);
    await expect(attacker.hv.evtchnBindInterdomain(victim.domid, forAttacker)).resolves.toBeGreaterThan(0);
    // The refused attempt left the victim's offer intact: the rightful peer still binds it, once.
    await expect(other.hv.evtchnBindInterdomain(victim.domid, forOther)).resolves.toBeGreaterThan(0);
    await expect(attacker.hv.evtchnBindInterdomain(victim.domid, forOther)).rejects.toMatchObject({ kind: 'EINVAL' });
  });

  it("a destroyed domain's credentials are refused; they worked before, and the other guests' still work", async () => {
    const doomed = await sys.createGuest('doomed');
    const name = `/local/domain/${doomed.domid}/name`;
    expect(await doomed.xs.read(name)).toBe('doomed');
    await expect(doomed.hv.getDomainInfo()).resolves.toMatchObject({ domid: doomed.domid, name: 'doomed' });
    const login = (): Promise<unknown> =>
      connect({
        servers: sys.url,
        authenticator: credsAuthenticator(new TextEncoder().encode(doomed.creds)),
        inboxPrefix: doomed.inboxPrefix,
        reconnect: false,
      }).then((nc) => nc.close());
    await expect(login()).resolves.toBeUndefined();

    await sys.hv0.destroyDomain(doomed.domid);
    // The live connection is cut off (revocation pushed to the server)...
    await waitFor(() => doomed.nc.isClosed(), 2000, "the destroyed domain's connection to be closed");
    // ...a new login with the same credentials is refused...
    await expect(login()).rejects.toThrow(/authorization|revoked/i);
    // ...and nothing it sent after destroy reached XenStore or the hypervisor.
    const stale = new XenstoreClient(doomed.nc, { domid: doomed.domid, timeoutMs: 1000 });
    await expect(stale.write(`/local/domain/${doomed.domid}/data/late`, 'x')).rejects.toThrow();
    await expect(new HypervisorClient(doomed.nc, doomed.domid).getDomainInfo()).rejects.toThrow();
    await stale.close().catch(() => undefined);
    expect(await sys.xs0.exists(`/local/domain/${doomed.domid}/data/late`)).toBe(false);
    await expect(sys.hv0.getDomainInfo(doomed.domid)).rejects.toMatchObject({ kind: 'ESRCH' });

    // The other guests' credentials are untouched.
    expect(await victim.xs.read(`/local/domain/${victim.domid}/name`)).toBe('victim');
    await expect(attacker.hv.getDomainInfo()).resolves.toMatchObject({ domid: attacker.domid });
  });
});
