import { preserveDomainOps, preservedName, ToolstackError } from '@dominion/toolstack';

const OLD = '6f1e5a2c-1b7d-4c3e-9a8b-0d2e4f6a8b1c';
const NEW = '0b5d7e3a-2c4f-4a6b-8d9e-1f2a3b4c5d6e';

describe('libxl_domain_preserve as XenStore steps', () => {
  it('renames the home and moves it to /vm/<new uuid>, readable by the domain, and drops /vm/<old uuid>', () => {
    const name = preservedName('web', Date.UTC(2026, 10, 25, 13, 7, 41));
    expect(name).toBe('web-20261125T1307Z');
    const ops = preserveDomainOps({ domid: 7, oldUuid: OLD, newUuid: NEW, newName: name });
    const shown = ops.map((o) =>
      o.op === 'write'
        ? `write ${o.path}=${o.value} ${o.perms.map((p) => `${p.perm}${p.domid}`).join(',')}`
        : `${o.op} ${o.path}`,
    );
    expect(shown).toEqual([
      `rm /vm/${NEW}`,
      `write /vm/${NEW}= n0,r7`,
      `write /local/domain/7/vm=/vm/${NEW} n0,r7`,
      'write /local/domain/7/name=web-20261125T1307Z n0,r7',
      `write /vm/${NEW}/name=web-20261125T1307Z n0,r7`,
      `write /vm/${NEW}/uuid=${NEW} n0,r7`,
      `rm /vm/${OLD}`,
    ]);
  });

  it.each([
    [{ domid: 7, oldUuid: OLD, newUuid: OLD, newName: 'x' }, /the new uuid is the old one/],
    [{ domid: 7, oldUuid: OLD, newUuid: NEW.toUpperCase(), newName: 'x' }, /new uuid ".*" is not/],
    [{ domid: 7, oldUuid: OLD, newUuid: NEW, newName: '' }, /the new name is empty/],
    [{ domid: 40000, oldUuid: OLD, newUuid: NEW, newName: 'x' }, /domain 40000 is not a domid/],
  ])('refuses %j', (a, why) => {
    expect(() => preserveDomainOps(a)).toThrow(ToolstackError);
    expect(() => preserveDomainOps(a)).toThrow(why);
    expect(preserveDomainOps({ ...a, domid: 7, oldUuid: OLD, newUuid: NEW, newName: 'x' })).toHaveLength(7);
  });
});
