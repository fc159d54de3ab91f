import type { DomainInfo } from '../src/domain-info.js';
import { create, failure, makeHv } from './helpers.js';

const info = (hv: ReturnType<typeof makeHv>['hv'], domid: number) =>
  hv.hypercall(0, 'getdomaininfo', { domid }).result as DomainInfo;

describe('setdomainname and setdomainhandle (for rename-restart)', () => {
  it('renames a domain so that a new one can take its name, and refuses a name in use', () => {
    const { hv } = makeHv();
    const web = create(hv, 'web');
    const db = create(hv, 'db');
    expect(failure(() => hv.hypercall(0, 'createdomain', { name: 'web', target_memkb: 1024 }))).toMatchObject({
      kind: 'EEXIST',
    });
    expect(failure(() => hv.hypercall(0, 'setdomainname', { domid: web, name: 'db' }))).toMatchObject({
      kind: 'EEXIST',
      message: `setdomainname: a domain named "db" exists (domain ${db})`,
    });
    hv.hypercall(0, 'setdomainname', { domid: web, name: 'web-20261125T1200Z' });
    expect(info(hv, web).name).toBe('web-20261125T1200Z');
    const again = create(hv, 'web');
    expect(info(hv, again).name).toBe('web');
    // Renaming to its own name is no clash.
    hv.hypercall(0, 'setdomainname', { domid: db, name: 'db' });
    expect(info(hv, db).name).toBe('db');
  });

  it('gives a domain a new uuid', () => {
    const { hv } = makeHv();
    const web = create(hv, 'web');
    hv.hypercall(0, 'setdomainhandle', { domid: web, uuid: '6F0C7A6E-3B39-4B8F-9C61-2F1D7D3A9B10' });
    expect(info(hv, web).uuid).toBe('6f0c7a6e-3b39-4b8f-9c61-2f1d7d3a9b10');
    expect(failure(() => hv.hypercall(0, 'setdomainhandle', { domid: web, uuid: 'nope' }))).toMatchObject({
      kind: 'EINVAL',
    });
  });

  it('is the control domain’s alone, beside dom0 renaming the same domain', () => {
    const { hv } = makeHv();
    const web = create(hv, 'web');
    const guest = create(hv, 'guest');
    expect(failure(() => hv.hypercall(guest, 'setdomainname', { domid: web, name: 'x' })).kind).toBe('EPERM');
    expect(
      failure(() =>
        hv.hypercall(guest, 'setdomainhandle', { domid: web, uuid: '6f0c7a6e-3b39-4b8f-9c61-2f1d7d3a9b10' }),
      ).kind,
    ).toBe('EPERM');
    hv.hypercall(0, 'setdomainname', { domid: web, name: 'x' });
    expect(info(hv, web).name).toBe('x');
    expect(failure(() => hv.hypercall(0, 'setdomainname', { domid: 77, name: 'y' })).kind).toBe('ESRCH');
  });
});
