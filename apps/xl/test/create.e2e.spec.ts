// `xl create` as a user runs it: the built launcher brings up nats-server (operator mode), the hypervisor
// and dom0; the built xl creates a real guest (apps/guest as a child process of dom0's toolstack) from
// examples/minios.cfg, and the hypervisor's getdomaininfo and the stock xenstore-utils check the result.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HypervisorClient } from '@dominion/hypervisor';
import { miniosCfg as cfgFile, run, startDominion, type Dominion, type Run } from './dominion-e2e.js';

/** `minios-1 <id> <mem> <vcpus> <state>` out of xl list's printf columns. */
const listed = (out: string, name: string): { id: number; mem: number; vcpus: number; state: string } | undefined => {
  const m = new RegExp(`^${name} +(\\d+) +(\\d+) +(\\d+) +([r-][b-][p-][s-][-rscwS][d-]) `, 'm').exec(out);
  return m ? { id: Number(m[1]), mem: Number(m[2]), vcpus: Number(m[3]), state: m[4] } : undefined;
};

describe('xl create (end to end)', () => {
  let dominion: Dominion;
  let home: Dominion['home'];
  let hv: HypervisorClient;
  let xsEnv: Record<string, string>;
  const xl = (...args: string[]): Promise<Run> => dominion.xl(...args);
  const xsList = async (path: string): Promise<string[]> => {
    const r = await run('xenstore-list', [path], xsEnv);
    expect(r).toMatchObject({ code: 0 });
    return r.stdout.split('\n').filter((l) => l !== '');
  };
  const names = async (): Promise<string[]> => (await hv.listDomains()).map((d) => d.name).sort();

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-create-');
    ({ home, hv } = dominion);
    xsEnv = { XENSTORED_PATH: join(home.path, 'dom0', 'xenstored.socket') };
  }, 30000);

  afterAll(async () => {
    expect(await dominion?.stop()).toBe(0);
  });

  it('creates minios-1 running with 64 MiB; a second create of the same file fails and leaves nothing', async () => {
    const r = await xl('create', cfgFile);
    expect(r).toEqual({ code: 0, stdout: '', stderr: `Parsing config from ${cfgFile}\n` });
    const row = listed((await xl('list')).stdout, 'minios-1');
    expect(row).toMatchObject({ mem: 64, vcpus: 1 });
    expect(row!.state).toMatch(/^[r-][b-]-{4}$/);
    const info = await hv.getDomainInfo(row!.id);
    expect(info).toMatchObject({ name: 'minios-1', paused: false, shutdown: false, target_memkb: 65536 });
    // the home libxl writes, and the guest's own acknowledgement that it is up
    const home0 = `/local/domain/${row!.id}`;
    expect((await run('xenstore-read', [`${home0}/name`, `${home0}/control/feature-poweroff`], xsEnv)).stdout).toBe(
      'minios-1\n1\n',
    );

    const storeBefore = await xsList('/local/domain');
    const dup = await xl('create', cfgFile);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe(
      `Parsing config from ${cfgFile}\ncreatedomain: a domain named "minios-1" exists (domain ${row!.id})\n`,
    );
    expect(await names()).toEqual(['Domain-0', 'minios-1']);
    expect(await xsList('/local/domain')).toEqual(storeBefore);
  });

  it("a syntax error is xl's file:line:col message, exit 1, and nothing is created", async () => {
    const bad = join(home.path, 'bad.cfg');
    writeFileSync(bad, 'name = "bad"\nmemory = = 64\n');
    const before = await names();
    const r = await xl('create', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^Parsing config from ${bad}\\n${bad}:2:10: config parsing error near \`=': syntax error`),
    );
    expect(await names()).toEqual(before);
    // beside it, the same file with the error fixed creates fine
    writeFileSync(bad, 'name = "bad"\nmemory = 32\n');
    expect(await xl('create', bad)).toMatchObject({ code: 0 });
    expect(listed((await xl('list')).stdout, 'bad')).toMatchObject({ mem: 32 });
    expect(await xl('destroy', 'bad')).toMatchObject({ code: 0, stderr: '' });
  });

  it('more memory than the host has: one clear ENOMEM message, exit 1, nothing left in XenStore or the hypervisor', async () => {
    const big = join(home.path, 'big.cfg');
    const freeMiB = Math.floor((await hv.physinfo()).free_memkb / 1024);
    writeFileSync(big, `name = "big"\nmemory = ${freeMiB + 1024}\n`);
    const before = await names();
    const storeBefore = await xsList('/local/domain');
    const r = await xl('create', big);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^Parsing config from ${big}\\ncreatedomain "big": \\d+ KiB requested, \\d+ KiB free\\n$`),
    );
    expect(await names()).toEqual(before);
    expect(await xsList('/local/domain')).toEqual(storeBefore);
    // beside it, what fits is created
    writeFileSync(big, 'name = "big"\nmemory = 16\n');
    expect(await xl('create', big)).toMatchObject({ code: 0 });
    expect(await xl('destroy', 'big')).toMatchObject({ code: 0, stderr: '' });
  });

  it('xl shutdown -w powers minios-1 off: on_poweroff=destroy removes it and its XenStore home', async () => {
    const domid = (await hv.listDomains()).find((d) => d.name === 'minios-1')!.domid;
    const r = await xl('shutdown', '-w', 'minios-1');
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `Shutting down domain ${domid}\nWaiting for 1 domains\nDomain ${domid} has been destroyed\n`,
    });
    expect(listed((await xl('list')).stdout, 'minios-1')).toBeUndefined();
    await expect(hv.getDomainInfo(domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect(await xsList('/local/domain')).toEqual(['0']);
  });

  it('xl create -p leaves the guest paused (with an override naming it); xl destroy removes it', async () => {
    const r = await xl('create', '-p', cfgFile, 'name="minios-p"');
    expect(r).toMatchObject({ code: 0, stdout: '' });
    const row = listed((await xl('list')).stdout, 'minios-p');
    expect(row).toMatchObject({ mem: 64, state: '--p---' });
    expect(await xl('unpause', 'minios-p')).toMatchObject({ code: 0 });
    expect(listed((await xl('list')).stdout, 'minios-p')!.state).toMatch(/^[r-][b-]-{4}$/);
    expect(await xl('destroy', 'minios-p')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await names()).toEqual(['Domain-0']);
    expect(await xsList('/local/domain')).toEqual(['0']);
    expect(await xl('destroy', 'minios-p')).toMatchObject({ code: 1 });
  });
});
