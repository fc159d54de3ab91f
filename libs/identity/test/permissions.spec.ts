// Each role against a real nats-server in operator mode: every refusal next to the same action allowed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { Msg } from '@nats-io/transport-node';
import { DOMID } from '@dominion/abi';
import { subjects } from '@dominion/bus';
import { tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { IdentityStore, mintDomainUser, permissionsFor, replyBelongsTo, type MintedUser } from '../src/index.js';
import { collect, connectAs, connectDomain, startOperatorServer, text, type Client } from './helpers.js';

const dec = new TextDecoder();

describe('bus permissions of each role, enforced by nats-server', () => {
  const tmp = tempDir('identity-perms-');
  let server: NatsServerHandle;
  let store: IdentityStore;
  const users: Record<string, MintedUser> = {};
  let hv: Client, dom0: Client, g5: Client, g6: Client, g7: Client;
  const clients: Client[] = [];

  beforeAll(async () => {
    store = await IdentityStore.open(join(tmp.path, 'identity'));
    server = await startOperatorServer(store, tmp.path);
    users.hv = await mintDomainUser(store.account, DOMID.DOMID_XEN, 'hypervisor');
    users.dom0 = await mintDomainUser(store.account, 0, 'control');
    for (const d of [5, 6, 7]) users[`g${d}`] = await mintDomainUser(store.account, d, 'guest');
    [hv, dom0, g5, g6, g7] = await Promise.all(
      ['hv', 'dom0', 'g5', 'g6', 'g7'].map((k) => connectDomain(server.url, users[k])),
    );
    clients.push(hv, dom0, g5, g6, g7);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.nc.close()));
    await server?.stop();
    tmp.remove();
  });

  it('a guest publishes only on subjects that carry its own domid', async () => {
    // [refused, allowed, who observes both]
    const cases: Array<[string, string, Client, string[]]> = [
      ['xen.hv.6.x', 'xen.hv.5.x', hv, ['xen.hv.*.*']],
      ['xen.xs.6', 'xen.xs.5', dom0, ['xen.xs.*']],
      ['xen.console.6.out', 'xen.console.5.out', dom0, ['xen.console.*.out']],
      ['xen.evtchn.6.1.7', 'xen.evtchn.6.1.5', g6, ['xen.evtchn.6.>']],
      ['xen.evtchn.6.ctl', 'xen.evtchn.6.2.5', g6, ['xen.evtchn.6.>']],
      ['xen.virq.6', 'xen.evtchn.6.3.5', g6, ['xen.evtchn.6.>', 'xen.virq.6']],
      ['xen.xs.watch.6.s1', 'xen.evtchn.6.4.5', g6, ['xen.evtchn.6.>', 'xen.xs.watch.6.>']],
      ['xen.console.6.in', 'xen.evtchn.6.5.5', g6, ['xen.evtchn.6.>', 'xen.console.6.in']],
      ['xen.toolstack.5.list', 'xen.xs.5', dom0, ['xen.toolstack.*.*', 'xen.xs.*']],
      ['_INBOX.dom6.x.y', 'xen.evtchn.6.6.5', g6, ['xen.evtchn.6.>', '_INBOX.dom6.>']],
    ];
    for (const [refused, allowed, observer, patterns] of cases) {
      const seen = collect(observer.nc, ...patterns);
      await observer.nc.flush();
      g5.nc.publish(refused, text('forged'));
      g5.nc.publish(allowed, text('mine'));
      await waitFor(() => seen.subjects().includes(allowed), 3000, `${allowed} at the observer`);
      await g5.waitViolation('publish', refused);
      // One publisher to one subscriber keeps order: had the refused one gone through, it would be here.
      expect(seen.subjects()).toEqual([allowed]);
      seen.unsubscribe();
    }
    expect(g5.nc.isClosed()).toBe(false); // a violation refuses the message, not the domain
  });

  it('a guest subscribes only to its own event channels, watches, VIRQs, console input and inbox', async () => {
    const refused = [
      'xen.evtchn.6.>',
      'xen.xs.watch.6.>',
      'xen.virq.6',
      'xen.console.6.in',
      'xen.hv.*.*',
      'xen.xs.*',
      '_INBOX.dom6.>',
      'xen.>',
    ];
    const allowed = ['xen.evtchn.5.>', 'xen.xs.watch.5.>', 'xen.virq.5', 'xen.console.5.in'];
    const bad = refused.map((s) => collect(g5.nc, s));
    const good = allowed.map((s) => collect(g5.nc, s));
    await g5.nc.flush();
    for (const s of refused) await g5.waitViolation('subscription', s);
    // Each publisher sends to domain 6 first, then to domain 5: when 5's arrives, 6's would have too.
    const sends: Array<[Client, string, string]> = [
      [g7, 'xen.evtchn.6.1.7', 'xen.evtchn.5.1.7'],
      [dom0, 'xen.xs.watch.6.s1', 'xen.xs.watch.5.s1'],
      [hv, 'xen.virq.6', 'xen.virq.5'],
      [dom0, 'xen.console.6.in', 'xen.console.5.in'],
    ];
    for (const [c, other, mine] of sends) {
      c.nc.publish(other, text('x'));
      c.nc.publish(mine, text('x'));
    }
    await waitFor(() => good.every((g) => g.got.length === 1), 3000, "domain 5's own messages");
    expect(good.map((g) => g.subjects())).toEqual([
      ['xen.evtchn.5.1.7'],
      ['xen.xs.watch.5.s1'],
      ['xen.virq.5'],
      ['xen.console.5.in'],
    ]);
    expect(bad.map((b) => b.got.length)).toEqual(refused.map(() => 0));
    for (const g of good) g.unsubscribe();
  });

  it('request/reply works through the domain inbox prefix and not through the default one', async () => {
    const serve = hv.nc.subscribe('xen.hv.*.echo', {
      callback: (_e, m) => {
        m.respond(text(`caller ${m.subject.split('.')[2]}`));
      },
    });
    await hv.nc.flush();
    const reply = await g5.nc.request(subjects.hv(5, 'echo'), text(''), { timeout: 2000 });
    expect(dec.decode(reply.data)).toBe('caller 5');
    // Same credentials with the client's default `_INBOX`: the reply subscription is not permitted.
    const plain = await connectAs(server.url, users.g5.creds, undefined);
    clients.push(plain);
    await expect(plain.nc.request(subjects.hv(5, 'echo'), text(''), { timeout: 2000 })).rejects.toThrow(/permission/i);
    serve.unsubscribe();
  });

  it('a guest answers a request it received, once, and cannot answer one it never received', async () => {
    // Legitimate: dom0 asks domain 5 on its console input; 5 replies.
    const asked = g5.nc.subscribe(subjects.console(5, 'in'), {
      callback: (_e, m) => {
        m.respond(text('ack'));
        m.respond(text('again')); // max 1: the second answer is refused
      },
    });
    await g5.nc.flush();
    const ack = await dom0.nc.request(subjects.console(5, 'in'), text('hello'), { timeout: 2000 });
    expect(dec.decode(ack.data)).toBe('ack');
    await g5.waitViolation('publish', ack.subject);
    asked.unsubscribe();

    // Domain 6 asks the hypervisor; domain 5 learns the reply subject and tries to answer first.
    let pending: Msg | undefined;
    const held = hv.nc.subscribe('xen.hv.6.slow', {
      callback: (_e, m) => {
        pending = m;
      },
    });
    await hv.nc.flush();
    const answer = g6.nc.request(subjects.hv(6, 'slow'), text(''), { timeout: 3000 });
    const m = (await waitFor(() => pending, 2000, "domain 6's request at the hypervisor"))!;
    expect(m.reply).toMatch(/^_INBOX\.dom6\./);
    g5.nc.publish(m.reply!, text('forged'));
    await g5.waitViolation('publish', m.reply!);
    m.respond(text('real'));
    expect(dec.decode((await answer).data)).toBe('real');
    held.unsubscribe();
  });

  it('a guest cannot steer a service’s answer onto another domain’s subjects', async () => {
    // NATS lets a requester name any reply subject. dom0 and the hypervisor may answer only into inboxes.
    const seen6 = collect(g6.nc, 'xen.virq.6', 'xen.evtchn.6.>', 'xen.xs.watch.6.>');
    const xs = dom0.nc.subscribe('xen.xs.5', {
      callback: (_e, m) => {
        m.respond(text('xs answer'));
      },
    });
    const hvServe = hv.nc.subscribe('xen.hv.5.*', {
      callback: (_e, m) => {
        m.respond(text('hv answer'));
      },
    });
    await Promise.all([g6.nc.flush(), dom0.nc.flush(), hv.nc.flush()]);
    g5.nc.publish('xen.xs.5', text('r'), { reply: 'xen.virq.6' });
    g5.nc.publish('xen.xs.5', text('r'), { reply: 'xen.evtchn.6.ctl' });
    g5.nc.publish('xen.hv.5.x', text('r'), { reply: 'xen.xs.watch.6.s1' });
    await dom0.waitViolation('publish', 'xen.virq.6');
    await dom0.waitViolation('publish', 'xen.evtchn.6.ctl');
    await hv.waitViolation('publish', 'xen.xs.watch.6.s1');
    // The same requests with the guest's own inbox are answered.
    expect(dec.decode((await g5.nc.request('xen.xs.5', text('r'), { timeout: 2000 })).data)).toBe('xs answer');
    expect(dec.decode((await g5.nc.request('xen.hv.5.x', text('r'), { timeout: 2000 })).data)).toBe('hv answer');
    // A reply subject a service may publish on for its own reasons (dom0: watch events; the hypervisor:
    // port-state pushes) passes the bus: that is what the service's replyBelongsTo check is for.
    expect(replyBelongsTo(5, 'xen.xs.watch.6.s1')).toBe(false);
    expect(replyBelongsTo(5, 'xen.evtchn.6.ctl')).toBe(false);
    g6.nc.publish('xen.evtchn.6.9.6', text('')); // domain 6's own loopback, sent after everything above
    await waitFor(() => seen6.got.length >= 1, 3000, "domain 6's own notification");
    expect(seen6.subjects()).toEqual(['xen.evtchn.6.9.6']);
    xs.unsubscribe();
    hvServe.unsubscribe();
    seen6.unsubscribe();
  });

  it('dom0 serves XenStore and the toolstack, fires any watch, reads consoles, and cannot act as a guest', async () => {
    const xs = dom0.nc.subscribe(subjects.xsAny(), {
      callback: (_e, m) => {
        m.respond(text(`xs for ${m.subject}`));
      },
    });
    const ts = dom0.nc.subscribe(subjects.toolstackAny('*'), {
      callback: (_e, m) => {
        m.respond(text(`ts ${m.subject}`));
      },
    });
    await dom0.nc.flush();
    expect(dec.decode((await g5.nc.request(subjects.xs(5), text('r'), { timeout: 2000 })).data)).toBe(
      'xs for xen.xs.5',
    );
    const xl = await connectDomain(server.url, users.dom0); // a second process with dom0's credentials
    clients.push(xl);
    expect(dec.decode((await xl.nc.request(subjects.toolstack(0, 'list'), text(''), { timeout: 2000 })).data)).toBe(
      'ts xen.toolstack.0.list',
    );
    await expect(g5.nc.request(subjects.toolstack(5, 'list'), text(''), { timeout: 2000 })).rejects.toThrow(
      /permission/i,
    );

    const watch = collect(g5.nc, 'xen.xs.watch.5.>');
    const out = collect(dom0.nc, 'xen.console.*.out');
    await Promise.all([g5.nc.flush(), dom0.nc.flush()]);
    dom0.nc.publish(subjects.xsWatch(5, 's9'), text('ev'));
    g5.nc.publish(subjects.console(5, 'out'), text('login:'));
    await waitFor(() => watch.got.length === 1 && out.got.length === 1, 3000, 'watch event and console output');

    const seen6 = collect(g6.nc, 'xen.evtchn.6.>', 'xen.virq.6');
    const seenHv = collect(hv.nc, 'xen.hv.*.*');
    await Promise.all([g6.nc.flush(), hv.nc.flush()]);
    for (const s of ['xen.hv.6.x', 'xen.evtchn.6.1.5', 'xen.evtchn.6.ctl', 'xen.virq.6'])
      dom0.nc.publish(s, text('forged'));
    dom0.nc.publish('xen.evtchn.6.1.0', text('mine'));
    dom0.nc.publish('xen.hv.0.x', text('mine'));
    await waitFor(() => seen6.got.length >= 1 && seenHv.got.length >= 1, 3000, "dom0's own messages");
    for (const s of ['xen.hv.6.x', 'xen.evtchn.6.1.5', 'xen.evtchn.6.ctl', 'xen.virq.6'])
      await dom0.waitViolation('publish', s);
    expect(seen6.subjects()).toEqual(['xen.evtchn.6.1.0']);
    expect(seenHv.subjects()).toEqual(['xen.hv.0.x']);
    for (const s of [xs, ts]) s.unsubscribe();
    for (const c of [watch, out, seen6, seenHv]) c.unsubscribe();
  });

  it('the hypervisor serves every caller, raises VIRQs, pushes port states, sends events, and nothing else', async () => {
    const serve = hv.nc.subscribe(subjects.hvAny('*'), {
      callback: (_e, m) => {
        m.respond(text(m.subject));
      },
    });
    await hv.nc.flush();
    expect(dec.decode((await g5.nc.request(subjects.hv(5, 'getdomaininfo'), text(''), { timeout: 2000 })).data)).toBe(
      'xen.hv.5.getdomaininfo',
    );
    expect(dec.decode((await dom0.nc.request(subjects.hv(0, 'createdomain'), text(''), { timeout: 2000 })).data)).toBe(
      'xen.hv.0.createdomain',
    );

    const seen6 = collect(g6.nc, 'xen.evtchn.6.>', 'xen.virq.6', 'xen.xs.watch.6.>', 'xen.console.6.in');
    const seen0 = collect(dom0.nc, 'xen.xs.*', 'xen.toolstack.*.*', 'xen.virq.0');
    await Promise.all([g6.nc.flush(), dom0.nc.flush()]);
    for (const s of ['xen.xs.6', 'xen.xs.watch.6.s1', 'xen.console.6.in', 'xen.toolstack.0.list'])
      hv.nc.publish(s, text('forged'));
    hv.nc.publish('xen.virq.6', text('{}'));
    hv.nc.publish('xen.evtchn.6.ctl', text('{}'));
    hv.nc.publish('xen.evtchn.6.3.5', text(''));
    hv.nc.publish('xen.virq.0', text('{}'));
    await waitFor(() => seen6.got.length >= 3 && seen0.got.length >= 1, 3000, "the hypervisor's own messages");
    for (const s of ['xen.xs.6', 'xen.xs.watch.6.s1', 'xen.console.6.in', 'xen.toolstack.0.list'])
      await hv.waitViolation('publish', s);
    expect(seen6.subjects()).toEqual(['xen.virq.6', 'xen.evtchn.6.ctl', 'xen.evtchn.6.3.5']);
    expect(seen0.subjects()).toEqual(['xen.virq.0']);
    const xs = collect(hv.nc, subjects.xsAny());
    await hv.waitViolation('subscription', subjects.xsAny());
    serve.unsubscribe();
    for (const c of [seen6, seen0, xs]) c.unsubscribe();
  });

  it('a driver domain has a guest’s bus rights plus serving the zfs admin API', () => {
    const guest = permissionsFor('guest', 1);
    expect(permissionsFor('driver', 1)).toEqual({ ...guest, sub: [...guest.sub, 'xen.zfs.*.*'] });
  });

  it('a ZFS storage domain (driver) serves dom0 on xen.zfs; guests can neither call nor serve it', async () => {
    const zfs = await connectDomain(server.url, await mintDomainUser(store.account, 3, 'driver'));
    clients.push(zfs);
    const serve = zfs.nc.subscribe(subjects.zfsAny('*'), {
      callback: (_e, m) => {
        m.respond(text(`zfs ${m.subject}`));
      },
    });
    await zfs.nc.flush();
    expect(dec.decode((await dom0.nc.request(subjects.zfs(0, 'list'), text(''), { timeout: 2000 })).data)).toBe(
      'zfs xen.zfs.0.list',
    );
    await expect(g5.nc.request(subjects.zfs(5, 'list'), text(''), { timeout: 2000 })).rejects.toThrow(/permission/i);
    const spy = collect(g6.nc, subjects.zfsAny('*'));
    await g6.waitViolation('subscription', subjects.zfsAny('*'));
    // The storage domain answers only as a reply, never by publishing on dom0's subjects.
    zfs.nc.publish(subjects.zfs(0, 'list'), text('forged'));
    await zfs.waitViolation('publish', subjects.zfs(0, 'list'));
    spy.unsubscribe();
    serve.unsubscribe();
  });
});
