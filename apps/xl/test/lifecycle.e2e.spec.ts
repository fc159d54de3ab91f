// The on_poweroff/on_reboot/on_crash actions as a user meets them: `xl reboot`, a guest process killed with
// SIGKILL, `xl shutdown -a`/`-F`, driven through the built xl against the built launcher's system. The guest
// pids come from dom0's toolstack API (`xen.toolstack.0.list`), never from matching process names.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import type { HypervisorClient } from '@dominion/hypervisor';
import { waitFor } from '@dominion/testing';
import { run, startDominion, type Dominion, type Run } from './dominion-e2e.js';

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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('domain lifecycle actions (end to end)', () => {
  let dominion: Dominion;
  let hv: HypervisorClient;
  let xsEnv: Record<string, string>;
  const xl = (...args: string[]): Promise<Run> => dominion.xl(...args);
  const cfg = (name: string, text: string): string => {
    const file = join(dominion.home.path, `${name}.cfg`);
    writeFileSync(file, `name = "${name}"\nkernel = "builtin:minios"\n${text}`);
    return file;
  };
  const toolstack = async (): Promise<ToolstackDomain[]> =>
    (await busRequest<{ domains: ToolstackDomain[] }>(dominion.nc, subjects.toolstack(0, 'list'), {})).domains;
  const guest = async (name: string): Promise<ToolstackDomain | undefined> =>
    (await toolstack()).find((d) => d.name === name);
  const xsLs = async (path: string): Promise<string[]> => {
    const r = await run('xenstore-list', [path], xsEnv);
    return r.stdout.split('\n').filter((l) => l !== '');
  };

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-lifecycle-');
    hv = dominion.hv;
    xsEnv = { XENSTORED_PATH: join(dominion.home.path, 'dom0', 'xenstored.socket') };
  }, 30000);

  afterAll(async () => {
    expect(await dominion?.stop()).toBe(0);
  });

  it('xl reboot -w: on_reboot=restart brings the domain back with its name and config under a new domid', async () => {
    const file = cfg('rb', 'memory = 48\n');
    expect(await xl('create', file)).toMatchObject({ code: 0 });
    const old = (await guest('rb'))!;
    const r = await xl('reboot', '-w', 'rb');
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `Rebooting domain ${old.domid}\nWaiting for 1 domains\nDomain ${old.domid} has been destroyed\n`,
    });
    const now = (await guest('rb'))!;
    expect(now.domid).not.toBe(old.domid);
    expect(now.pid).not.toBe(old.pid);
    const row = listed((await xl('list')).stdout, 'rb');
    expect(row).toMatchObject({ id: now.domid, mem: 48 });
    expect(row!.state).toMatch(/^[r-][b-]-{4}$/);
    expect((await hv.getDomainInfo(now.domid)).target_memkb).toBe(48 * 1024);
    await expect(hv.getDomainInfo(old.domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect(await xsLs('/local/domain')).toEqual(['0', String(now.domid)]);
    expect(await xl('destroy', 'rb')).toMatchObject({ code: 0 });
  });

  it('kill -9 of the guest process: on_crash=restart brings it back under a new domid; the old one is gone', async () => {
    expect(await xl('create', cfg('crashy', 'memory = 32\non_crash = "restart"\n'))).toMatchObject({ code: 0 });
    const old = (await guest('crashy'))!;
    expect(old.pid).toBeGreaterThan(0);
    process.kill(old.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        const g = await guest('crashy');
        return g !== undefined && g.domid !== old.domid && g.pid !== undefined;
      },
      15000,
      'crashy to come back',
    );
    const now = (await guest('crashy'))!;
    expect(alive(old.pid!)).toBe(false);
    expect(listed((await xl('list')).stdout, 'crashy')).toMatchObject({ id: now.domid, mem: 32 });
    await expect(hv.getDomainInfo(old.domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    await waitFor(async () => !(await xsLs('/local/domain')).includes(String(old.domid)), 5000, 'the old home to go');
    expect(await xl('destroy', 'crashy')).toMatchObject({ code: 0 });
  });

  it('kill -9 with on_crash=destroy removes the domain and its XenStore nodes', async () => {
    expect(await xl('create', cfg('doomed', 'memory = 16\non_crash = "destroy"\n'))).toMatchObject({ code: 0 });
    const g = (await guest('doomed'))!;
    process.kill(g.pid!, 'SIGKILL');
    await waitFor(async () => (await guest('doomed')) === undefined, 10000, 'doomed to be destroyed');
    await expect(hv.getDomainInfo(g.domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect(await xsLs('/local/domain')).toEqual(['0']);
    expect(await xsLs('/vm')).toEqual([]);
    expect(listed((await xl('list')).stdout, 'doomed')).toBeUndefined();
  });

  it('on_crash=preserve keeps the crashed domain under its own name, shown ---sc-, until xl destroy', async () => {
    expect(await xl('create', cfg('kept', 'memory = 16\non_crash = "preserve"\n'))).toMatchObject({ code: 0 });
    const g = (await guest('kept'))!;
    process.kill(g.pid!, 'SIGKILL');
    await waitFor(async () => (await guest('kept'))?.preserved === true, 10000, 'kept to be preserved');
    expect(listed((await xl('list')).stdout, 'kept')).toEqual({ id: g.domid, mem: 16, state: '---sc-' });
    expect(await run('xenstore-read', [`/local/domain/${g.domid}/name`], xsEnv)).toMatchObject({ stdout: 'kept\n' });
    // shutting it down again has nothing to wait for: it is shut down already
    expect(await xl('shutdown', '-w', 'kept')).toEqual({
      code: 0,
      stdout: '',
      stderr: `Shutting down domain ${g.domid}\nWaiting for 1 domains\nDomain ${g.domid} has been shut down, reason code 3\n`,
    });
    expect(await xl('destroy', 'kept')).toMatchObject({ code: 0 });
    await expect(hv.getDomainInfo(g.domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect(await xsLs('/local/domain')).toEqual(['0']);
  });

  it('xl shutdown without a domain needs -a; -F is needed for a domain without the PV control interface', async () => {
    expect(await xl('shutdown')).toEqual({ code: 1, stdout: '', stderr: 'You must specify -a or a domain id.\n\n' });
    // a domain made by a bare createdomain runs no guest: no control/feature-poweroff
    const bare = await hv.createDomain({ name: 'bare', target_memkb: 16384 });
    await hv.unpauseDomain(bare);
    expect(await xl('shutdown', 'bare')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `Shutting down domain ${bare}\n` +
        'PV control interface not available: external graceful shutdown not possible.\n' +
        'Use "-F" to fallback to ACPI power event.\n' +
        'shutdown failed (rc=-10)\n',
    });
    expect((await hv.getDomainInfo(bare)).shutdown).toBe(false);
    const f = await xl('shutdown', '-F', '-w', 'bare');
    expect(f).toEqual({
      code: 0,
      stdout: '',
      stderr:
        `Shutting down domain ${bare}\n` +
        'PV control interface not available: sending ACPI power button event.\n' +
        `Waiting for 1 domains\nDomain ${bare} has been shut down, reason code 0\n`,
    });
    expect(await xl('destroy', 'bare')).toMatchObject({ code: 0 });
  });

  it('xl shutdown -a -w powers off every domain but Domain-0', async () => {
    const a = cfg('all-a', 'memory = 16\n');
    const b = cfg('all-b', 'memory = 16\n');
    expect(await xl('create', a)).toMatchObject({ code: 0 });
    expect(await xl('create', b)).toMatchObject({ code: 0 });
    const ids = (await toolstack()).map((d) => d.domid);
    expect(ids).toHaveLength(2);
    const r = await xl('shutdown', '-a', '-w');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      ids.map((id) => `Shutting down domain ${id}\n`).join('') +
        'Waiting for 2 domains\n' +
        ids.map((id) => `Domain ${id} has been destroyed\n`).join(''),
    );
    expect((await hv.listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
    expect(await xsLs('/local/domain')).toEqual(['0']);
  });
});
