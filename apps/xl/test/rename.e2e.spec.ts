// Restarts that keep more than a config, as a user meets them through the built xl: on_crash =
// "rename-restart" (xl's preserve_domain: the dead domain kept as `<name>-<%Y%m%dT%H%MZ>` with a new uuid,
// the config started again under its name and uuid), its refusal when the stamped name is taken (the old
// domain kept in place, not restarted, as xl leaves it), and devices hot-attached to a running domain
// coming back with it after `xl reboot` (libxl restarts from the configuration it kept, devices included).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import { preservedName } from '@dominion/toolstack';
import { waitFor } from '@dominion/testing';
import { repo, run, startDominion, type Dominion, type Run } from './dominion-e2e.js';

interface ToolstackDomain {
  domid: number;
  name: string;
  uuid: string;
  pid?: number;
  preserved: boolean;
}

const listed = (out: string, name: string): { id: number; mem: number; state: string } | undefined => {
  const m = new RegExp(`^${name} +(\\d+) +(\\d+) +\\d+ +([r-][b-][p-][s-][-rscwS][d-]) `, 'm').exec(out);
  return m ? { id: Number(m[1]), mem: Number(m[2]), state: m[3] } : undefined;
};

describe('rename-restart and restarts that keep hot-attached devices (end to end)', () => {
  let dominion: Dominion;
  let xsEnv: Record<string, string>;
  const xl = (...args: string[]): Promise<Run> => dominion.xl(...args);
  const cfg = (name: string, text: string): string => {
    const file = join(dominion.home.path, `${name}.cfg`);
    writeFileSync(file, `name = "${name}"\nkernel = "builtin:minios"\n${text}`);
    return file;
  };
  const toolstack = async (): Promise<ToolstackDomain[]> =>
    (await busRequest<{ domains: ToolstackDomain[] }>(dominion.nc, subjects.toolstack(0, 'list'), {})).domains;
  const byName = async (name: string): Promise<ToolstackDomain | undefined> =>
    (await toolstack()).find((d) => d.name === name);
  const xsRead = async (path: string): Promise<string | undefined> => {
    const r = await run('xenstore-read', [path], xsEnv);
    return r.code === 0 ? r.stdout.replace(/\n$/, '') : undefined;
  };
  const xsLs = async (path: string): Promise<string[]> =>
    (await run('xenstore-list', [path], xsEnv)).stdout.split('\n').filter((l) => l !== '');

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-rename-');
    xsEnv = { XENSTORED_PATH: join(dominion.home.path, 'dom0', 'xenstored.socket') };
  }, 30000);

  afterAll(async () => {
    expect(await dominion?.stop()).toBe(0);
  });

  it('kill -9 with on_crash=rename-restart: the dead domain kept renamed with a new uuid, the config back under its name', async () => {
    const uuid = '5a0c1f3e-7b2d-4e6f-8a9b-0c1d2e3f4a5b';
    expect(
      await xl('create', cfg('ren', `memory = 24\nuuid = "${uuid}"\non_crash = "rename-restart"\n`)),
    ).toMatchObject({ code: 0 });
    const old = (await byName('ren'))!;
    expect(old.uuid).toBe(uuid);
    const before = Date.now();
    process.kill(old.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        const g = await byName('ren');
        return g !== undefined && g.domid !== old.domid && g.pid !== undefined;
      },
      15000,
      'ren to come back',
    );
    const after = Date.now();
    await waitFor(
      async () => !(await dominion.hv.getDomainInfo((await byName('ren'))!.domid)).paused,
      5000,
      'unpaused',
    );
    const now = (await byName('ren'))!;
    const kept = (await toolstack()).find((d) => d.domid === old.domid)!;
    // the stamp is the crash's minute, in UTC
    expect([preservedName('ren', before), preservedName('ren', after)]).toContain(kept.name);
    expect(kept.name).toMatch(/^ren-\d{8}T\d{4}Z$/);
    expect(kept.preserved).toBe(true);
    expect(kept.uuid).not.toBe(uuid);
    expect(now).toMatchObject({ uuid, preserved: false });

    // the hypervisor and XenStore agree with the toolstack
    const info = await dominion.hv.getDomainInfo(old.domid);
    expect(info).toMatchObject({ name: kept.name, uuid: kept.uuid, shutdown: true });
    expect(await dominion.hv.getDomainInfo(now.domid)).toMatchObject({ name: 'ren', uuid });
    expect(await xsRead(`/local/domain/${old.domid}/name`)).toBe(kept.name);
    expect(await xsRead(`/local/domain/${old.domid}/vm`)).toBe(`/vm/${kept.uuid}`);
    expect(await xsRead(`/vm/${kept.uuid}/name`)).toBe(kept.name);
    expect(await xsRead(`/vm/${kept.uuid}/uuid`)).toBe(kept.uuid);
    expect(await xsRead(`/local/domain/${now.domid}/name`)).toBe('ren');
    expect(await xsRead(`/local/domain/${now.domid}/vm`)).toBe(`/vm/${uuid}`);
    expect(await xsRead(`/vm/${uuid}/name`)).toBe('ren');

    // xl list: the kept one under its new name, shut down by a crash
    const out = (await xl('list')).stdout;
    expect(listed(out, kept.name)).toEqual({ id: old.domid, mem: 24, state: '---sc-' });
    expect(listed(out, 'ren')).toMatchObject({ id: now.domid, mem: 24 });
    expect(listed(out, 'ren')!.state).toMatch(/^[r-][b-]-{4}$/);

    // xl destroy of the renamed one removes it and only it
    expect(await xl('destroy', kept.name)).toMatchObject({ code: 0, stderr: '' });
    await expect(dominion.hv.getDomainInfo(old.domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect((await toolstack()).map((d) => d.domid)).toEqual([now.domid]);
    expect(await xsLs('/local/domain')).toEqual(['0', String(now.domid)]);
    expect(await xsLs('/vm')).toEqual([uuid]);
    expect(listed((await xl('list')).stdout, 'ren')).toMatchObject({ id: now.domid });
    expect(await xl('destroy', 'ren')).toMatchObject({ code: 0 });
    expect(await xsLs('/vm')).toEqual([]);
  });

  it('a stamped name already taken: the crashed domain stays under its own name, preserved, and is not restarted', async () => {
    // both minutes the crash can fall in are taken, so the rename is refused whenever it happens
    const t = Date.now();
    for (const name of [preservedName('clash', t), preservedName('clash', t + 60_000)])
      expect(await xl('create', cfg(name, 'memory = 16\n'))).toMatchObject({ code: 0 });
    expect(await xl('create', cfg('clash', 'memory = 16\non_crash = "rename-restart"\n'))).toMatchObject({ code: 0 });
    const g = (await byName('clash'))!;
    process.kill(g.pid!, 'SIGKILL');
    await waitFor(async () => (await byName('clash'))?.preserved === true, 10000, 'clash to be kept');
    expect(listed((await xl('list')).stdout, 'clash')).toEqual({ id: g.domid, mem: 16, state: '---sc-' });
    expect(await xsRead(`/local/domain/${g.domid}/name`)).toBe('clash');
    expect((await toolstack()).filter((d) => d.name === 'clash')).toHaveLength(1);
    expect((await dominion.hv.getDomainInfo(g.domid)).uuid).toBe(g.uuid);
    for (const d of await toolstack()) expect(await xl('destroy', String(d.domid))).toMatchObject({ code: 0 });
    expect(await xsLs('/local/domain')).toEqual(['0']);
  });

  it('xl reboot: disks and vifs attached while it ran come back with the restarted domain, connected', async () => {
    const mac = '00:16:3e:0a:0b:0c';
    expect(await xl('create', join(repo, 'examples', 'blkback.cfg'))).toMatchObject({ code: 0 });
    expect(await xl('create', join(repo, 'examples', 'netback.cfg'))).toMatchObject({ code: 0 });
    expect(await xl('create', cfg('keep', 'memory = 32\n'))).toMatchObject({ code: 0 });
    const old = (await byName('keep'))!;
    expect(await xl('block-attach', 'keep', 'format=raw, vdev=xvdb, access=rw, size=4M, target=keep.img')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect(await xl('network-attach', 'keep', `mac=${mac}`, 'bridge=xenbr0')).toMatchObject({ code: 0 });
    const connected = (domid: number) =>
      waitFor(
        async () =>
          (await xsRead(`/local/domain/${domid}/device/vbd/51728/state`)) === '4' &&
          (await xsRead(`/local/domain/${domid}/device/vif/0/state`)) === '4',
        15000,
        `the devices of domain ${domid} to connect`,
      );
    // this guest's netfront connects the vifs it boots with, not hot-plugged ones: the vif waits at
    // Initialising until the restart, where it is one of the domain's devices from the start
    await waitFor(
      async () => (await xsRead(`/local/domain/${old.domid}/device/vbd/51728/state`)) === '4',
      15000,
      'the hot-attached disk to connect',
    );
    expect(await xsRead(`/local/domain/${old.domid}/device/vif/0/mac`)).toBe(mac);

    expect(await xl('reboot', '-w', 'keep')).toMatchObject({ code: 0 });
    const now = (await byName('keep'))!;
    expect(now.domid).not.toBe(old.domid);
    await connected(now.domid);
    const blocks = (await xl('block-list', 'keep')).stdout;
    expect(blocks).toMatch(new RegExp(`^51728 +\\d+ +${now.domid} +4 `, 'm'));
    expect((await xl('network-list', 'keep')).stdout).toMatch(new RegExp(`^0 +\\d+ +${mac} +0 +4 `, 'm'));
    expect(await xsRead(`/local/domain/${now.domid}/device/vif/0/mac`)).toBe(mac);
    // the old domid's backend dirs went with it
    const bb = (await byName('blkback'))!.domid;
    expect(await xsLs(`/local/domain/${bb}/backend/vbd`)).toEqual([String(now.domid)]);

    // a device detached before the reboot does not come back
    expect(await xl('network-detach', 'keep', '0')).toMatchObject({ code: 0 });
    expect(await xl('reboot', '-w', 'keep')).toMatchObject({ code: 0 });
    const third = (await byName('keep'))!;
    expect(third.domid).not.toBe(now.domid);
    await waitFor(
      async () => (await xsRead(`/local/domain/${third.domid}/device/vbd/51728/state`)) === '4',
      15000,
      'the disk to connect again',
    );
    expect(await xsLs(`/local/domain/${third.domid}/device/vif`)).toEqual([]);
    expect(await xl('destroy', 'keep')).toMatchObject({ code: 0 });
  }, 60000);
});
