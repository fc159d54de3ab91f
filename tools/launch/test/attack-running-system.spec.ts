// Attack tests on the running system (issue 3): the launcher's nats-server in operator mode, the real
// hypervisor and dom0 processes, and three guests with the credentials the hypervisor minted for them.
// The attacker tries to act on the victims' XenStore homes, as another domid on the hypercall and event
// subjects, and to listen to the victims' consoles and event channels. Each refusal is shown next to the
// same action on its own domain succeeding, and the victim's data is checked unchanged afterwards.
import { subjects } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import { XenstoreClient } from '@dominion/xenstore';
import { waitFor } from '@dominion/testing';
import { startRunningSystem, type Guest, type RunningSystem } from './attack-harness.js';

describe('a guest attacking the running system', () => {
  let sys: RunningSystem;
  let attacker: Guest;
  let victim: Guest;
  let other: Guest;

  beforeAll(async () => {
    sys = await startRunningSystem('attack-');
    attacker = await sys.createGuest('attacker');
    victim = await sys.createGuest('victim');
    other = await sys.createGuest('other');
    await victim.xs.write(`/local/domain/${victim.domid}/data/secret`, 'victim-secret');
    // A backend dir of the victim's disk, as libxl writes it: dom0's, the victim reading it.
    const be = `/local/domain/0/backend/vbd/${victim.domid}/51712`;
    await sys.xs0.write(`${be}/params`, '/srv/victim.img');
    await sys.xs0.setPerms(`/local/domain/0/backend/vbd/${victim.domid}`, ['n0', `r${victim.domid}`]);
    await sys.xs0.setPerms(be, ['n0', `r${victim.domid}`]);
    await sys.xs0.setPerms(`${be}/params`, ['n0', `r${victim.domid}`]);
  }, 60000);
  afterAll(async () => {
    await sys?.stop();
  });

  it("reading or writing another guest's XenStore home or backend dir is EACCES; its own works", async () => {
    const own = `/local/domain/${attacker.domid}/data/note`;
    await attacker.xs.write(own, 'mine');
    expect(await attacker.xs.read(own)).toBe('mine');
    expect(await attacker.xs.read(`/local/domain/${attacker.domid}/name`)).toBe('attacker');

    const vHome = `/local/domain/${victim.domid}`;
    for (const path of [
      `${vHome}/data/secret`,
      `${vHome}/name`,
      `/local/domain/0/backend/vbd/${victim.domid}/51712/params`,
    ])
      await expect(attacker.xs.read(path)).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(attacker.xs.directory(vHome)).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(attacker.xs.write(`${vHome}/data/secret`, 'pwned')).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(attacker.xs.write(`${vHome}/data/planted`, 'x')).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(attacker.xs.rm(`${vHome}/data/secret`)).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(
      attacker.xs.write(`/local/domain/0/backend/vbd/${victim.domid}/51712/params`, '/etc/shadow'),
    ).rejects.toMatchObject({ kind: 'EACCES' });

    // The victim and its backend are untouched; the victim itself still reads its own secret.
    expect(await victim.xs.read(`${vHome}/data/secret`)).toBe('victim-secret');
    expect(await sys.xs0.exists(`${vHome}/data/planted`)).toBe(false);
    expect(await sys.xs0.read(`/local/domain/0/backend/vbd/${victim.domid}/51712/params`)).toBe('/srv/victim.img');
  });

  it('a XenStore request as another domid is refused by the bus; the same request as itself is answered', async () => {
    const forged = new XenstoreClient(attacker.nc, { domid: victim.domid, timeoutMs: 2000 });
    await expect(forged.read(`/local/domain/${victim.domid}/data/secret`)).rejects.toThrow(/not permitted/);
    await attacker.violation('publish', subjects.xs(victim.domid));
    expect(await attacker.xs.read(`/local/domain/${attacker.domid}/name`)).toBe('attacker');
    await forged.close().catch(() => undefined);
  });

  it('a hypercall as another domid is refused by the bus; its own is served', async () => {
    await expect(attacker.hv.getDomainInfo()).resolves.toMatchObject({ domid: attacker.domid, name: 'attacker' });
    const asVictim = new HypervisorClient(attacker.nc, victim.domid);
    await expect(asVictim.getDomainInfo()).rejects.toMatchObject({ kind: 'EACCES' });
    await expect(asVictim.shutdown('poweroff')).rejects.toMatchObject({ kind: 'EACCES' });
    const asDom0 = new HypervisorClient(attacker.nc, 0);
    await expect(asDom0.destroyDomain(victim.domid)).rejects.toMatchObject({ kind: 'EACCES' });
    // As itself, the same domctl on another domain is the hypervisor's EPERM, not the bus's refusal.
    await expect(attacker.hv.destroyDomain(victim.domid)).rejects.toMatchObject({ kind: 'EPERM' });
    // The victim is alive and not shut down.
    expect(await sys.hv0.getDomainInfo(victim.domid)).toMatchObject({ shutdown: false, dying: false });
    await expect(victim.hv.getDomainInfo()).resolves.toMatchObject({ domid: victim.domid });
  });

  it("subscribing to another domain's console input or event channels is refused beside its own", async () => {
    const got = { own: [] as string[], victimConsole: [] as string[], victimEvtchn: [] as string[] };
    const sub = (subject: string, into: string[]): void => {
      attacker.nc.subscribe(subject, {
        callback: (_e, m) => {
          into.push(m.subject === subject ? m.string() : m.subject);
        },
      });
    };
    sub(subjects.console(attacker.domid, 'in'), got.own);
    sub(subjects.console(victim.domid, 'in'), got.victimConsole);
    sub(subjects.evtchnInbox(victim.domid), got.victimEvtchn);
    sub(`${subjects.xsWatch(victim.domid)}.>`, got.victimEvtchn);
    await attacker.violation('subscription', subjects.console(victim.domid, 'in'));
    await attacker.violation('subscription', subjects.evtchnInbox(victim.domid));
    await attacker.violation('subscription', `${subjects.xsWatch(victim.domid)}.>`);
    // Its own watch events arrive (XenStore fires a new watch once at once).
    const fired: string[] = [];
    await attacker.xs.watch(`/local/domain/${attacker.domid}/data`, 'own', (path) => {
      fired.push(path);
    });
    await waitFor(() => fired.length > 0, 2000, "the attacker's own watch event");

    // What the victim is sent reaches the victim and nobody else.
    const victimGot: string[] = [];
    victim.nc.subscribe(subjects.console(victim.domid, 'in'), {
      callback: (_e, m) => {
        victimGot.push(m.string());
      },
    });
    victim.nc.subscribe(subjects.evtchnInbox(victim.domid), {
      callback: (_e, m) => {
        victimGot.push(m.subject);
      },
    });
    await victim.nc.flush();
    sys.dom0.nc.publish(subjects.console(victim.domid, 'in'), 'victim password');
    sys.dom0.nc.publish(subjects.console(attacker.domid, 'in'), 'attacker input');
    // A port of the victim's, bound to the other guest: its notification reaches the victim only.
    const port = await victim.hv.evtchnAllocUnbound(other.domid);
    const otherPort = await other.hv.evtchnBindInterdomain(victim.domid, port);
    other.nc.publish(subjects.evtchn(victim.domid, port, other.domid));
    await waitFor(() => victimGot.includes('victim password'), 2000, "the victim's console input");
    await waitFor(
      () => victimGot.includes(subjects.evtchn(victim.domid, port, other.domid)),
      2000,
      "the victim's event",
    );
    await waitFor(() => got.own.includes('attacker input'), 2000, "the attacker's own console input");
    await attacker.nc.flush();
    expect(got.victimConsole).toEqual([]);
    expect(got.victimEvtchn).toEqual([]);

    // Sending the victim an event as its bound peer is refused by the bus; the peer itself sent one above.
    const before = victimGot.length;
    attacker.nc.publish(subjects.evtchn(victim.domid, port, other.domid));
    await attacker.violation('publish', subjects.evtchn(victim.domid, port, other.domid));
    await victim.nc.flush();
    expect(victimGot.length).toBe(before);
    expect(otherPort).toBeGreaterThan(0);
  });

  it("the launcher's log names each refusal's offender by domid", async () => {
    const subject = subjects.console(victim.domid, 'out');
    other.nc.publish(subject, 'forged console line');
    await other.violation('publish', subject);
    await waitFor(
      () =>
        sys
          .output()
          .split('\n')
          .some(
            (l) =>
              l.includes('Publish Violation') && l.includes(`"${subject}"`) && l.endsWith(`(domain ${other.domid})`),
          ),
      3000,
      `the violation in the launcher's log:\n${sys.output()}`,
    );
    // A permitted publish on its own console leaves no such line.
    other.nc.publish(subjects.console(other.domid, 'out'), 'own line');
    await other.nc.flush();
    expect(sys.output()).not.toContain(`"${subjects.console(other.domid, 'out')}"`);
  });
});
