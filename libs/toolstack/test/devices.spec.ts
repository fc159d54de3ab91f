import { XenbusState } from '@dominion/abi';
import { DeviceRemoval, vbdDirs, vifDirs } from '@dominion/toolstack';
import { parseDiskSpec, parseVifSpec } from '@dominion/xlcfg';

function keyed(writes: { path: string; value: string; perms: { perm: string; domid: number }[] }[], dir: string) {
  const out: Record<string, string> = {};
  for (const w of writes) {
    if (w.path.startsWith(`${dir}/`)) out[w.path.slice(dir.length + 1)] = w.value;
    if (w.path.startsWith(dir)) expect(w.perms).toEqual(writes.find((x) => x.path === dir)!.perms);
  }
  return out;
}

describe('vbd directories', () => {
  const disk = parseDiskSpec('/dev/vg/guest,raw,xvda,rw');
  const { paths, writes } = vbdDirs({ frontendDomid: 5, backendDomid: 0, protocol: 'x86_64-abi' }, disk);

  it('puts them where Xen does', () => {
    expect(paths).toEqual({
      frontend: '/local/domain/5/device/vbd/51712',
      backend: '/local/domain/0/backend/vbd/5/51712',
      libxl: '/libxl/5/device/vbd/51712',
    });
  });

  it('writes the frontend keys, guest-owned and backend-readable', () => {
    expect(writes.find((w) => w.path === paths.frontend)!.perms).toEqual([
      { domid: 5, perm: 'n' },
      { domid: 0, perm: 'r' },
    ]);
    expect(keyed(writes, paths.frontend)).toEqual({
      backend: '/local/domain/0/backend/vbd/5/51712',
      'backend-id': '0',
      state: '1',
      'virtual-device': '51712',
      'device-type': 'disk',
      trusted: '1',
      protocol: 'x86_64-abi',
    });
  });

  it('writes the backend keys, backend-owned and frontend-readable', () => {
    expect(writes.find((w) => w.path === paths.backend)!.perms).toEqual([
      { domid: 0, perm: 'n' },
      { domid: 5, perm: 'r' },
    ]);
    expect(keyed(writes, paths.backend)).toEqual({
      frontend: '/local/domain/5/device/vbd/51712',
      'frontend-id': '5',
      online: '1',
      state: '1',
      removable: '0',
      bootable: '1',
      dev: 'xvda',
      type: 'phy',
      mode: 'w',
      'device-type': 'disk',
      params: '/dev/vg/guest',
      'discard-enable': '1',
      specification: 'xen',
    });
  });

  it('writes a qdisk cdrom in a driver domain as <format>:<path>, read-only, removable', () => {
    const cd = parseDiskSpec('/root/image.iso,,hdc,cdrom,backendtype=qdisk');
    const r = vbdDirs({ frontendDomid: 7, backendDomid: 3 }, cd);
    expect(r.paths.backend).toBe('/local/domain/3/backend/qdisk/7/5632');
    const b = keyed(r.writes, r.paths.backend);
    expect([b.params, b.mode, b['device-type'], b.removable, b.type]).toEqual([
      'raw:/root/image.iso',
      'r',
      'cdrom',
      '1',
      'qdisk',
    ]);
  });
});

describe('vif directories', () => {
  const { vif } = parseVifSpec('mac=00:16:3e:01:02:03,bridge=xenbr1,ip=10.0.0.2,rate=10Mb/s@20ms,mtu=9000', {
    devid: 1,
  });
  const { paths, writes } = vifDirs({ frontendDomid: 5, backendDomid: 0 }, { ...vif, mac: vif.mac! });

  it('writes the frontend and backend keys as Xen names them', () => {
    expect(keyed(writes, paths.frontend)).toEqual({
      backend: '/local/domain/0/backend/vif/5/1',
      'backend-id': '0',
      state: '1',
      handle: '1',
      mac: '00:16:3e:01:02:03',
      trusted: '1',
      mtu: '9000',
    });
    expect(keyed(writes, paths.backend)).toEqual({
      frontend: '/local/domain/5/device/vif/1',
      'frontend-id': '5',
      online: '1',
      state: '1',
      script: 'vif-bridge',
      mac: '00:16:3e:01:02:03',
      bridge: 'xenbr1',
      handle: '1',
      type: 'vif',
      mtu: '9000',
      'hotplug-status': '',
      ip: '10.0.0.2',
      // 10 Mbit/s = 1 250 000 B/s, 25 000 B per 20 ms
      rate: '25000,20000',
    });
  });
});

describe('device removal', () => {
  const paths = {
    frontend: '/local/domain/5/device/vbd/51712',
    backend: '/local/domain/0/backend/vbd/5/51712',
    libxl: '/libxl/5/device/vbd/51712',
  };

  it('asks the backend to close with online=0 and state=5', () => {
    const r = new DeviceRemoval(paths, 0, 5, 1000);
    expect(r.initialWrites().map((w) => [w.path, w.value])).toEqual([
      [`${paths.backend}/online`, '0'],
      [`${paths.backend}/state`, '5'],
    ]);
  });

  it('removes all three dirs once the backend is Closed', () => {
    const r = new DeviceRemoval(paths, 0, 5, 1000);
    expect(r.observe(XenbusState.XenbusStateClosing, 2000)).toEqual({ kind: 'wait', deadlineMs: 11_000 });
    expect(r.observe(XenbusState.XenbusStateClosed, 3000)).toEqual({
      kind: 'remove',
      paths: [paths.frontend, paths.backend, paths.libxl],
      outcome: 'closed',
    });
  });

  it('forces the removal after 10 s, and not a moment before', () => {
    const r = new DeviceRemoval(paths, 0, 5, 1000);
    expect(r.observe(XenbusState.XenbusStateConnected, 10_999).kind).toBe('wait');
    const step = r.observe(XenbusState.XenbusStateConnected, 11_000);
    expect(step).toEqual({ kind: 'remove', paths: [paths.frontend, paths.backend, paths.libxl], outcome: 'timeout' });
    // decided once: a late Closed does not change it
    expect(r.observe(XenbusState.XenbusStateClosed, 11_500)).toBe(step);
  });

  it('cleans up only the frontend side when the backend is gone', () => {
    const r = new DeviceRemoval(paths, 0, 5, 0);
    expect(r.observe(undefined, 1)).toEqual({
      kind: 'remove',
      paths: [paths.frontend, paths.libxl],
      outcome: 'backend-gone',
    });
  });
});
