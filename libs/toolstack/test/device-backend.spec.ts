import {
  blockListRowFrom,
  deviceBackendRefs,
  deviceDirs,
  deviceMoveOps,
  findDevice,
  formatXlBlockList,
  formatXlNetworkList,
  networkListRowFrom,
  nextVifDevid,
  resolveBackend,
  retargetPerms,
  ToolstackError,
  type ToolstackDevice,
} from '@dominion/toolstack';
import { parseDiskSpec, parseVifSpec } from '@dominion/xlcfg';

const domains = [
  { domid: 0, name: 'Domain-0', privilege: 'control' as const },
  { domid: 3, name: 'blkback', privilege: 'driver' as const },
  { domid: 4, name: 'netback', privilege: 'driver' as const },
  { domid: 5, name: 'web', privilege: 'guest' as const },
  { domid: 9, name: 'storagedom', privilege: 'driver' as const },
];

describe('the backend a device names', () => {
  it('defaults to the driver domain named blkback (vbd) or netback (vif)', () => {
    expect(resolveBackend('vbd', undefined, 5, domains, 'vbd xvda')).toEqual({ name: 'blkback', domid: 3 });
    expect(resolveBackend('vif', undefined, 5, domains, 'vif 0')).toEqual({ name: 'netback', domid: 4 });
  });

  it('takes backend= as a name or a domid', () => {
    expect(resolveBackend('vbd', 'storagedom', 5, domains, 'vbd xvda')).toEqual({ name: 'storagedom', domid: 9 });
    expect(resolveBackend('vbd', '9', 5, domains, 'vbd xvda')).toEqual({ name: 'storagedom', domid: 9 });
  });

  it('refuses a backend that does not exist, naming it (ESRCH)', () => {
    expect(() => resolveBackend('vbd', 'nosuch', 5, domains, 'vbd xvda')).toThrow(
      new ToolstackError('ESRCH', 'vbd xvda: backend domain "nosuch" does not exist'),
    );
    expect(() => resolveBackend('vbd', '77', 5, domains, 'vbd xvda')).toThrow(/backend domain "77" does not exist/);
  });

  it('says dom0 serves no backend when the default driver domain is missing', () => {
    const noBlkback = domains.filter((d) => d.name !== 'blkback');
    expect(() => resolveBackend('vbd', undefined, 5, noBlkback, 'vbd xvda')).toThrow(
      new ToolstackError(
        'ESRCH',
        'vbd xvda: no backend= given and no driver domain named "blkback" exists; dom0 serves no vbd in Dominion: ' +
          'create one (xl create examples/blkback.cfg) or name one with backend=<domain>',
      ),
    );
    expect(() => resolveBackend('vif', 'Domain-0', 5, domains, 'vif 0')).toThrow(
      new ToolstackError(
        'EINVAL',
        'vif 0: backend Domain-0 (domain 0): dom0 serves no vif in Dominion; name a driver domain with backend=<domain>',
      ),
    );
  });

  it('refuses a guest that is not a driver domain, and the frontend itself, beside a driver domain accepted', () => {
    expect(() => resolveBackend('vif', 'web', 6, domains, 'vif 0')).toThrow(
      new ToolstackError(
        'EINVAL',
        'vif 0: backend domain 5 (web) is not a driver domain (driver_domain=1 in its config)',
      ),
    );
    expect(() => resolveBackend('vif', 'netback', 4, domains, 'vif 0')).toThrow(/cannot be its own backend/);
    expect(resolveBackend('vif', 'netback', 6, domains, 'vif 0').domid).toBe(4);
  });
});

describe('devices of a domain', () => {
  const vbd: ToolstackDevice = {
    kind: 'vbd',
    disk: parseDiskSpec('format=raw, vdev=xvda, access=rw, backend=blkback, target=web.img'),
    backend: 'blkback',
    backendDomid: 3,
  };
  const vif: ToolstackDevice = {
    kind: 'vif',
    vif: { ...parseVifSpec('bridge=xenbr0', { devid: 0 }).vif, mac: '00:16:3e:0a:0b:0c' },
    backend: 'netback',
    backendDomid: 4,
  };

  it('are found by devid, vdev or mac; ENODEV otherwise', () => {
    expect(findDevice('vbd', [vbd, vif], '51712', 5)).toBe(vbd);
    expect(findDevice('vbd', [vbd, vif], 'xvda', 5)).toBe(vbd);
    expect(findDevice('vif', [vbd, vif], '00:16:3E:0A:0B:0C', 5)).toBe(vif);
    expect(findDevice('vif', [vbd, vif], '0', 5)).toBe(vif);
    expect(() => findDevice('vbd', [vbd, vif], 'xvdb', 5)).toThrow(
      new ToolstackError('ENODEV', 'domain 5 has no vbd "xvdb"'),
    );
  });

  it('number new vifs with the first free index', () => {
    expect(nextVifDevid([vbd])).toBe(0);
    expect(nextVifDevid([vbd, vif])).toBe(1);
  });

  it('leave backend dirs to remove in each driver domain', () => {
    expect(deviceBackendRefs(5, [vbd, vif])).toEqual([
      { backendDomid: 3, kind: 'vbd' },
      { backendDomid: 4, kind: 'vif' },
    ]);
  });
});

describe('moving a device to a driver domain that came back', () => {
  const vif: ToolstackDevice = {
    kind: 'vif',
    vif: { ...parseVifSpec('bridge=xenbr0', { devid: 0 }).vif, mac: '00:16:3e:0a:0b:0c' },
    backend: 'netback',
    backendDomid: 4,
  };
  const fe = '/local/domain/5/device/vif/0';
  // the frontend dir as xenstored has it after netback (domain 4) was released: its entries are gone,
  // except on a node the frontend set perms on itself
  const nodes = [
    { path: fe, perms: [{ domid: 5, perm: 'n' as const }] },
    { path: `${fe}/state`, perms: [{ domid: 5, perm: 'n' as const }] },
    {
      path: `${fe}/tx-ring-ref`,
      perms: [
        { domid: 5, perm: 'n' as const },
        { domid: 4, perm: 'r' as const },
      ],
    },
    { path: '/local/domain/5/device/vif/1', perms: [{ domid: 5, perm: 'n' as const }] },
  ];

  it('grants the new backend read access, points the frontend at it, rewrites the backend dir, removes the old', () => {
    const m = deviceMoveOps(5, vif, 8, nodes);
    expect(m.device).toEqual({ ...vif, backendDomid: 8 });
    const n5r8 = [
      { domid: 5, perm: 'n' },
      { domid: 8, perm: 'r' },
    ];
    const n8r5 = [
      { domid: 8, perm: 'n' },
      { domid: 5, perm: 'r' },
    ];
    const be = '/local/domain/8/backend/vif/5/0';
    // written out by hand from libxl's vif keys (xen-facts §3) under the new domid
    expect(m.ops).toEqual([
      { op: 'set-perms', path: fe, perms: n5r8 },
      { op: 'set-perms', path: `${fe}/state`, perms: n5r8 },
      { op: 'set-perms', path: `${fe}/tx-ring-ref`, perms: n5r8 },
      { op: 'write', path: `${fe}/backend`, value: be, perms: n5r8 },
      { op: 'write', path: `${fe}/backend-id`, value: '8', perms: n5r8 },
      { op: 'write', path: be, value: '', perms: n8r5 },
      { op: 'write', path: `${be}/frontend`, value: fe, perms: n8r5 },
      { op: 'write', path: `${be}/frontend-id`, value: '5', perms: n8r5 },
      { op: 'write', path: `${be}/online`, value: '1', perms: n8r5 },
      { op: 'write', path: `${be}/state`, value: '1', perms: n8r5 },
      { op: 'write', path: `${be}/script`, value: 'vif-bridge', perms: n8r5 },
      { op: 'write', path: `${be}/mac`, value: '00:16:3e:0a:0b:0c', perms: n8r5 },
      { op: 'write', path: `${be}/bridge`, value: 'xenbr0', perms: n8r5 },
      { op: 'write', path: `${be}/handle`, value: '0', perms: n8r5 },
      { op: 'write', path: `${be}/type`, value: 'vif', perms: n8r5 },
      { op: 'write', path: `${be}/mtu`, value: '1500', perms: n8r5 },
      { op: 'write', path: `${be}/hotplug-status`, value: '', perms: n8r5 },
      { op: 'write', path: '/libxl/5/device/vif/0/backend', value: be, perms: [{ domid: 0, perm: 'n' }] },
      { op: 'rm', path: '/local/domain/4/backend/vif/5/0' },
    ]);
  });

  it('retargetPerms keeps the owner and never names a domain twice', () => {
    const owner4 = [
      { domid: 4, perm: 'n' as const },
      { domid: 8, perm: 'r' as const },
    ];
    expect(retargetPerms(owner4, 4, 8)).toEqual(owner4);
    expect(
      retargetPerms(
        [
          { domid: 5, perm: 'n' },
          { domid: 4, perm: 'r' },
          { domid: 8, perm: 'w' },
        ],
        4,
        8,
      ),
    ).toEqual([
      { domid: 5, perm: 'n' },
      { domid: 8, perm: 'r' },
    ]);
  });
});

describe('block-list and network-list rows from the frontend keys', () => {
  it('prints what the frontend published, -1 for what it has not', () => {
    const connected = blockListRowFrom(51712, 5, {
      backend: '/local/domain/3/backend/vbd/5/51712',
      'backend-id': '3',
      state: '4',
      'event-channel': '7',
      'ring-ref': '8',
    });
    const fresh = blockListRowFrom(51728, 5, {
      backend: '/local/domain/3/backend/vbd/5/51728',
      'backend-id': '3',
      state: '1',
    });
    // "%-5d %-3d %-6d %-5d %-6d %-8d %-30s\n" (xl_block.c), by hand
    expect(formatXlBlockList([connected, fresh])).toBe(
      'Vdev  BE  handle state evt-ch ring-ref BE-path                       \n' +
        '51712 3   5      4     7      8        /local/domain/3/backend/vbd/5/51712\n' +
        '51728 3   5      1     -1     -1       /local/domain/3/backend/vbd/5/51728\n',
    );
  });

  it('network-list: "%-3d %-2d " mac "%6d %5d %6d %5d/%-11d %-30s\\n"', () => {
    const row = networkListRowFrom(1, {
      backend: '/local/domain/4/backend/vif/5/1',
      'backend-id': '4',
      mac: '00:16:3e:0a:0b:0c',
      state: '4',
      'event-channel': '12',
      'tx-ring-ref': '266',
      'rx-ring-ref': '267',
    });
    const multiQueue = networkListRowFrom(2, {
      backend: '/local/domain/4/backend/vif/5/2',
      'backend-id': '4',
      mac: '00:16:3e:0a:0b:0d',
      state: '4',
    });
    expect(formatXlNetworkList([row, multiQueue])).toBe(
      'Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       \n' +
        '1   4  00:16:3e:0a:0b:0c     1     4     12   266/267         /local/domain/4/backend/vif/5/1\n' +
        '2   4  00:16:3e:0a:0b:0d     2     4     -1    -1/-1          /local/domain/4/backend/vif/5/2\n',
    );
  });
});

describe("a vbd's size= (Dominion's)", () => {
  it('becomes the backend key size blkback creates a missing image with; absent without it', () => {
    const sized = deviceDirs(5, {
      kind: 'vbd',
      disk: parseDiskSpec('format=raw, vdev=xvda, size=64M, backend=blkback, target=web.img'),
      backend: 'blkback',
      backendDomid: 3,
    });
    expect(sized.writes.find((w) => w.path === '/local/domain/3/backend/vbd/5/51712/size')?.value).toBe('64M');
    const plain = deviceDirs(5, {
      kind: 'vbd',
      disk: parseDiskSpec('format=raw, vdev=xvda, target=web.img'),
      backend: 'blkback',
      backendDomid: 3,
    });
    expect(plain.writes.some((w) => w.path.endsWith('/size'))).toBe(false);
  });
});
