import { domainHomeWrites, domainTeardownPaths, ToolstackError } from '@dominion/toolstack';

const base = {
  domid: 5,
  name: 'guest1',
  uuid: '6f1e5a2c-1b7d-4c3e-9a8b-0d2e4f6a8b1c',
  type: 'pv' as const,
  targetKiB: 131072,
  staticMaxKiB: 262144,
  vcpus: 2,
  maxvcpus: 3,
  driverDomain: false,
  startTimeMs: 1_764_066_000_123,
};
const VM = '/vm/6f1e5a2c-1b7d-4c3e-9a8b-0d2e4f6a8b1c';

function table(writes: ReturnType<typeof domainHomeWrites>): Map<string, [string, string]> {
  return new Map(writes.map((w) => [w.path, [w.value, w.perms.map((p) => `${p.perm}${p.domid}`).join(',')]]));
}

describe('domain home layout', () => {
  const t = table(domainHomeWrites(base));

  it('writes the identity and memory nodes dom0-owned, guest-readable', () => {
    expect(t.get('/local/domain/5')).toEqual(['', 'n0,r5']);
    expect(t.get('/local/domain/5/name')).toEqual(['guest1', 'n0,r5']);
    expect(t.get('/local/domain/5/domid')).toEqual(['5', 'n0,r5']);
    expect(t.get('/local/domain/5/vm')).toEqual([VM, 'n0,r5']);
    expect(t.get('/local/domain/5/memory/target')).toEqual(['131072', 'n0,r5']);
    expect(t.get('/local/domain/5/memory/static-max')).toEqual(['262144', 'n0,r5']);
    expect(t.get('/local/domain/5/cpu/0/availability')).toEqual(['online', 'n0,r5']);
    expect(t.get('/local/domain/5/cpu/1/availability')).toEqual(['online', 'n0,r5']);
    expect(t.get('/local/domain/5/cpu/2/availability')).toEqual(['offline', 'n0,r5']);
    expect(t.has('/local/domain/5/cpu/3/availability')).toBe(false);
    expect(t.get('/local/domain/5/device')).toEqual(['', 'n0,r5']);
    expect(t.get('/local/domain/5/control')).toEqual(['', 'n0,r5']);
  });

  it('makes the guest the owner of the nodes it must write, and only those', () => {
    const guestOwned = [...t]
      .filter(([, [, perms]]) => perms === 'n5')
      .map(([p]) => p.slice('/local/domain/5/'.length));
    expect(guestOwned.sort()).toEqual(
      [
        'attr',
        'control/feature-poweroff',
        'control/feature-reboot',
        'control/feature-suspend',
        'control/shutdown',
        'data',
        'device/suspend/event-channel',
        'drivers',
        'error',
        'feature',
      ].sort(),
    );
    expect(t.has('/local/domain/5/libxl')).toBe(false);
  });

  it('keeps /vm/<uuid> and /libxl/<id> to dom0', () => {
    expect(t.get(VM)).toEqual(['', 'n0']);
    expect(t.get(`${VM}/uuid`)).toEqual([base.uuid, 'n0']);
    expect(t.get(`${VM}/name`)).toEqual(['guest1', 'n0']);
    expect(t.get(`${VM}/start_time`)).toEqual(['1764066000.12', 'n0']);
    expect(t.get('/libxl/5')).toEqual(['', 'n0']);
    expect(t.get('/libxl/5/type')).toEqual(['pv', 'n0']);
  });

  it('writes each directory before anything under it', () => {
    const paths = domainHomeWrites(base).map((w) => w.path);
    expect(paths.indexOf('/local/domain/5')).toBe(0);
    expect(paths.indexOf('/local/domain/5/control')).toBeLessThan(paths.indexOf('/local/domain/5/control/shutdown'));
  });

  it('gives a driver domain its own libxl and device-model directories', () => {
    const d = table(domainHomeWrites({ ...base, driverDomain: true }));
    expect(d.get('/local/domain/5/libxl')).toEqual(['', 'n5']);
    expect(d.get('/local/domain/5/device-model')).toEqual(['', 'n5']);
  });

  it('refuses a bad uuid or domid, naming it', () => {
    expect(() => domainHomeWrites({ ...base, uuid: 'nope' })).toThrow(/domain 5: uuid "nope"/);
    expect(() => domainHomeWrites({ ...base, domid: 0x7ff0 })).toThrow(ToolstackError);
    expect(() => domainHomeWrites({ ...base, vcpus: 4 })).toThrow(/vcpus 4 \/ maxvcpus 3/);
  });

  it('tears down the home, /vm, /libxl and its backend dirs', () => {
    expect(
      domainTeardownPaths(5, base.uuid, [
        { backendDomid: 0, kind: 'vbd' },
        { backendDomid: 0, kind: 'vbd' },
        { backendDomid: 2, kind: 'vif' },
      ]),
    ).toEqual(['/local/domain/0/backend/vbd/5', '/local/domain/2/backend/vif/5', '/local/domain/5', VM, '/libxl/5']);
  });
});
