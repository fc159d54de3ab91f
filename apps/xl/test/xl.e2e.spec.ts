// `xl` as a user runs it: the built CLI as a child process against the system `npm start` brings up (the
// launcher's built output: real nats-server in operator mode, the hypervisor, dom0). Values are checked
// against the hypervisor's own getdomaininfo, read by the test as dom0.
import type { HypervisorClient } from '@dominion/hypervisor';
import { freePort, tempDir } from '@dominion/testing';
import { run, startDominion, xlMain, type Dominion, type Run } from './dominion-e2e.js';

const runXl = (args: string[], env: Record<string, string>): Promise<Run> =>
  run(process.execPath, [xlMain, ...args], env);

// From xl_info.c: header, and `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f` per domain.
const HEADER = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';
// Widths are fixed for a name of at most 40 characters; the numbers are then checked to be right-justified.
const row = (name: string): RegExp =>
  new RegExp(
    `^(${name.padEnd(40).replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}) ([ \\d]{5}) ([ \\d]{5}) ([ \\d]{5}) {5}([r-][b-][p-][s-][-rscwS][d-])  ([ \\d]{5}\\d\\.\\d)$`,
    'm',
  );
const rightJustified = (...fields: string[]): void => {
  for (const f of fields) expect(f).toMatch(/^ *\d+(\.\d)?$/);
};

describe('xl (end to end)', () => {
  let dominion: Dominion;
  let hv: HypervisorClient;
  const xl = (...args: string[]): Promise<Run> => dominion.xl(...args);

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-');
    hv = dominion.hv;
  }, 30000);

  afterAll(async () => {
    expect(await dominion?.stop()).toBe(0);
  });

  it('xl list: the header exactly, and Domain-0 first with the hypervisor figures in printf columns', async () => {
    const before = await hv.getDomainInfo(0);
    const r = await xl('list');
    const after = await hv.getDomainInfo(0);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(HEADER);
    const m = row('Domain-0').exec(lines[1]);
    expect(m).not.toBeNull();
    const [, name, id, mem, vcpus, state, time] = m!;
    expect(name).toBe('Domain-0'.padEnd(40));
    rightJustified(id, mem, vcpus, time);
    expect(Number(id)).toBe(0);
    expect(Number(mem)).toBe(Math.floor(after.current_memkb / 1024));
    expect(Number(vcpus)).toBe(after.vcpu_online);
    expect(state).toMatch(/^[r-][b-]-{4}$/);
    expect(Number(time)).toBeGreaterThanOrEqual(Math.floor(before.cpu_time * 10) / 10 - 0.05);
    expect(Number(time)).toBeLessThanOrEqual(after.cpu_time + 0.05);
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('a created domain: listed paused, unpaused, paused again, resized, reweighted, then destroyed', async () => {
    const domid = await hv.createDomain({ name: 'xl-guest', target_memkb: 65536, max_memkb: 262144, vcpus: 1 });
    const state = async (dom: string): Promise<string> => {
      const r = await xl('list', dom);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const m = row('xl-guest').exec(r.stdout.split('\n')[1]);
      expect(m?.[2].trim()).toBe(String(domid));
      return m?.[5] ?? '';
    };
    const all = await xl('list');
    expect(all.stdout.split('\n').map((l) => l.split(' ')[0])).toEqual(['Name', 'Domain-0', 'xl-guest', '']);
    const m = row('xl-guest').exec(all.stdout)!;
    expect([Number(m[2]), Number(m[3]), Number(m[4])]).toEqual([domid, 64, 1]);
    expect(m[5]).toBe('--p---'); // created paused
    expect(await xl('domid', 'xl-guest')).toMatchObject({ code: 0, stdout: `${domid}\n` });
    expect(await xl('domname', String(domid))).toMatchObject({ code: 0, stdout: 'xl-guest\n' });

    expect(await xl('unpause', 'xl-guest')).toMatchObject({ code: 0, stderr: '' });
    expect((await state('xl-guest'))[2]).toBe('-');
    expect((await hv.getDomainInfo(domid)).paused).toBe(false);
    expect(await xl('pause', String(domid))).toMatchObject({ code: 0, stderr: '' });
    expect((await state(String(domid)))[2]).toBe('p');

    expect(await xl('mem-set', 'xl-guest', '32m')).toMatchObject({ code: 0 });
    expect((await hv.getDomainInfo(domid)).target_memkb).toBe(32768);
    expect(await xl('mem-set', 'xl-guest', '48')).toMatchObject({ code: 0 }); // bare number: MiB
    expect((await hv.getDomainInfo(domid)).target_memkb).toBe(49152);
    expect(await xl('mem-max', String(domid), '131072k')).toMatchObject({ code: 0 });
    expect((await hv.getDomainInfo(domid)).max_memkb).toBe(131072);
    expect(await xl('mem-set', 'xl-guest', '12x')).toMatchObject({ code: 1, stderr: 'invalid memory size: 12x\n' });
    expect((await hv.getDomainInfo(domid)).target_memkb).toBe(49152);

    expect(await xl('sched-credit', '-d', 'xl-guest', '-w', '512', '-c', '50')).toMatchObject({ code: 0 });
    expect(await hv.schedCredit(domid)).toEqual({ weight: 512, cap: 50 });
    const sc = await xl('sched-credit', '-d', 'xl-guest');
    expect(sc.stdout).toBe(
      `Name                                ID Weight  Cap\nxl-guest                          ${String(domid).padStart(4)}    512   50\n`,
    );
    expect((await xl('sched-credit', '-w', '5')).stderr).toBe('Must specify a domain.\n');

    // xl_vcpu.c: "%-32s %5u %5u" + "%5u %3c%c- " + "%9.1f  " + affinity (no space before the CPU column)
    const vl = await xl('vcpu-list', 'xl-guest');
    expect(vl.stdout).toMatch(
      new RegExp(
        `^Name {32}ID  VCPU   CPU State   Time\\(s\\) Affinity \\(Hard / Soft\\)\\nxl-guest {24} ${String(domid).padStart(5)}     0 {4}\\d   --- [ \\d]{7}\\.\\d  all / all\\n$`,
      ),
    );

    expect(await xl('destroy', 'xl-guest')).toMatchObject({ code: 0, stderr: '' });
    await expect(hv.getDomainInfo(domid)).rejects.toMatchObject({ kind: 'ESRCH' });
    expect((await xl('list')).stdout).not.toMatch(/xl-guest/);
    expect(await xl('list', 'xl-guest')).toMatchObject({
      code: 1,
      stderr: 'xl-guest is an invalid domain identifier (rc=-6)\n',
    });
  });

  it("xl destroy 0 is refused with xl's words and exit 1; Domain-0 stays", async () => {
    expect(await xl('destroy', '0')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Not destroying domain 0; use -f to force.\n',
    });
    expect(await xl('destroy', 'Domain-0')).toMatchObject({ code: 1 });
    expect((await hv.getDomainInfo(0)).name).toBe('Domain-0');
    // beside it, the same command on a guest goes through
    const domid = await hv.createDomain({ name: 'xl-doomed', target_memkb: 16384 });
    expect(await xl('destroy', String(domid))).toEqual({ code: 0, stdout: '', stderr: '' });
    await expect(hv.getDomainInfo(domid)).rejects.toMatchObject({ kind: 'ESRCH' });
  });

  it('unknown domains and bad usage read as xl prints them', async () => {
    expect(await xl('list', 'nosuch')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'nosuch is an invalid domain identifier (rc=-6)\n',
    });
    expect(await xl('list', '99')).toEqual({ code: 1, stdout: '', stderr: "Error: Domain '99' does not exist.\n" });
    const two = await xl('list', '0', 'Domain-0');
    expect(two.code).toBe(1);
    expect(two.stdout).toMatch(
      /^Usage: xl \[-v\] list \[options\] \[Domain\]\n\nList information about all\/some domains\.\n/,
    );
    expect(await xl('domid', 'nosuch')).toMatchObject({
      code: 1,
      stderr: "Can't get domid of domain name 'nosuch', maybe this domain does not exist.\n",
    });
    expect(await xl('domname', '99')).toMatchObject({
      code: 1,
      stderr: "Can't get domain name of domain id '99', maybe this domain does not exist.\n",
    });
    expect(await xl('pause', 'nosuch')).toMatchObject({ code: 1 });
    expect(await xl('pause')).toMatchObject({ code: 2, stderr: "'xl pause' requires at least 1 argument.\n\n" });
    expect(await xl('frobnicate')).toEqual({ code: 1, stdout: '', stderr: 'command not implemented\n' });
    const none = await xl();
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^Usage xl \[-vfNtT\] <subcommand> \[args\]\n\nxl full list of subcommands:\n\n/);
    expect(none.stdout).toMatch(/^ list {16}List information about all\/some domains$/m);
    expect((await xl('help')).code).toBe(0);
  });

  it('xl dmesg prints the hypervisor console ring; -c clears it', async () => {
    const lines = await hv.dmesg();
    expect(lines.length).toBeGreaterThan(0);
    const r = await xl('dmesg');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, lines.length)).toEqual(lines);
    expect(r.stdout).toMatch(/^\(XEN\) \[ *\d+\.\d{6}\] /);
    expect((await xl('dmesg', '-c')).stdout.length).toBeGreaterThan(0);
    expect((await hv.dmesg()).length).toBeLessThan(lines.length);
  });

  it('xl info agrees with physinfo; xl uptime lists Domain-0', async () => {
    const p = await hv.physinfo();
    const r = await xl('info');
    expect(r.code).toBe(0);
    const get = (k: string): string | undefined => new RegExp(`^${k} +: (.*)$`, 'm').exec(r.stdout)?.[1];
    expect(r.stdout).toMatch(/^host {19}: \S+$/m);
    expect(Number(get('nr_cpus'))).toBe(p.nr_cpus);
    expect(Number(get('total_memory'))).toBe(Math.floor(p.total_memkb / 1024));
    expect(Number(get('free_memory'))).toBe(Math.floor(p.free_memkb / 1024));
    const up = await xl('uptime');
    expect(up.stdout).toMatch(/^Name {32}ID Uptime\nDomain-0 {25} {4}0 {1,2}\d+:\d\d:\d\d\n/);
    expect((await xl('uptime', '-s', '0')).stdout).toMatch(/^ \d\d:\d\d:\d\d up +\d+:\d\d, Domain-0 \(0\)\n$/);
    expect(await xl('info', 'nr_cpus')).toEqual({ code: 0, stdout: `${p.nr_cpus}\n`, stderr: '' });
  });

  it('with no system running: a clear error and exit 1, from the missing bus.json or an unreachable URL', async () => {
    const empty = tempDir('dominion-xl-none-');
    try {
      const r = await runXl(['list'], { DOMINION_HOME: empty.path, DOMINION_NATS_URL: '' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach the Dominion bus: .*bus\.json does not exist: is `npm start` running\?/);
      const port = await freePort();
      const r2 = await runXl(['list'], { DOMINION_NATS_URL: `nats://127.0.0.1:${port}` });
      expect(r2.code).toBe(1);
      expect(r2.stderr).toMatch(
        new RegExp(`cannot reach the Dominion bus at nats://127\\.0\\.0\\.1:${port} .*is \`npm start\` running\\?`),
      );
    } finally {
      empty.remove();
    }
  });
});
