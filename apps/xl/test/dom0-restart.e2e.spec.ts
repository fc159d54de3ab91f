// dom0 killed and started again while its guests run: the guests (detached processes) live on, and the new
// dom0 adopts them from what its toolstack recorded, so `xl list` and `xl shutdown` work on them and their
// on_* actions still apply. The built dom0 runs as a process the test can SIGKILL, against a real
// nats-server and the hypervisor engine served from the test; the built xl talks to it as a user's would.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { repo, run, xlMain, type Run } from './dominion-e2e.js';

const dom0Main = join(repo, 'apps', 'dom0', 'dist', 'main.js');

interface ToolstackDomain {
  domid: number;
  name: string;
  pid?: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('dom0 restart (end to end)', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let hv: HypervisorClient;
  let home: ReturnType<typeof tempDir>;
  let dom0: ChildProcess | undefined;
  let env: Record<string, string>;
  const xl = (...args: string[]): Promise<Run> => run(process.execPath, [xlMain, ...args], env);
  const toolstack = async (): Promise<ToolstackDomain[]> =>
    (await busRequest<{ domains: ToolstackDomain[] }>(nc, subjects.toolstack(0, 'list'), {}, { timeoutMs: 1000 }))
      .domains;

  const startDom0 = async (): Promise<void> => {
    const child = spawn(process.execPath, [dom0Main], {
      env: {
        ...process.env,
        DOMINION_NATS_URL: srv.url,
        DOMINION_DOMID: '0',
        DOMINION_DOMAIN_NAME: 'Domain-0',
        DOMINION_STATE_DIR: join(home.path, 'dom0'),
        DOMINION_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    dom0 = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`dom0 exited with ${child.exitCode}`);
        return toolstack().then(
          () => true,
          () => false,
        );
      },
      20000,
      'dom0 to answer',
    );
  };
  const killDom0 = async (): Promise<void> => {
    const child = dom0!;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    dom0 = undefined;
  };

  beforeAll(async () => {
    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    hvServer = serveHypervisor(
      nc,
      new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } }),
    );
    hv = new HypervisorClient(nc, 0);
    home = tempDir('dominion-dom0-restart-');
    env = { DOMINION_NATS_URL: srv.url };
    await startDom0();
  }, 30000);

  afterAll(async () => {
    for (const g of await toolstack().catch(() => [])) if (g.pid) process.kill(g.pid, 'SIGKILL');
    if (dom0) await killDom0();
    hvServer?.close();
    await nc?.close();
    await srv?.stop();
    home?.remove();
  });

  it('a guest outlives a killed dom0; the new dom0 lists it and applies on_poweroff=destroy to xl shutdown', async () => {
    const file = join(home.path, 'survivor.cfg');
    writeFileSync(file, 'name = "survivor"\nmemory = 32\nkernel = "builtin:minios"\non_poweroff = "destroy"\n');
    const crashy = join(home.path, 'orphan.cfg');
    writeFileSync(crashy, 'name = "orphan"\nmemory = 16\nkernel = "builtin:minios"\non_crash = "destroy"\n');
    expect(await xl('create', file)).toMatchObject({ code: 0 });
    expect(await xl('create', crashy)).toMatchObject({ code: 0 });
    const before = await toolstack();
    const survivor = before.find((d) => d.name === 'survivor')!;
    const orphan = before.find((d) => d.name === 'orphan')!;

    await killDom0();
    expect(alive(survivor.pid!)).toBe(true);
    // a guest that dies while dom0 is away is a crash the new dom0 handles when it comes back
    process.kill(orphan.pid!, 'SIGKILL');
    await waitFor(() => !alive(orphan.pid!), 5000, 'the orphan to die');

    await startDom0();
    expect((await toolstack()).find((d) => d.name === 'survivor')).toEqual(survivor);
    await waitFor(async () => !(await hv.listDomains()).some((d) => d.name === 'orphan'), 10000, 'orphan destroyed');
    const list = await xl('list', 'survivor');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^survivor +${survivor.domid} +32 +1 `, 'm'));

    const r = await xl('shutdown', '-w', 'survivor');
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `Shutting down domain ${survivor.domid}\nWaiting for 1 domains\nDomain ${survivor.domid} has been destroyed\n`,
    });
    await waitFor(() => !alive(survivor.pid!), 5000, 'the survivor process to exit');
    expect((await hv.listDomains()).map((d) => d.name)).toEqual(['Domain-0']);
    expect(await toolstack()).toEqual([]);
    const xs = await run('xenstore-list', ['/local/domain'], {
      XENSTORED_PATH: join(home.path, 'dom0', 'xenstored.socket'),
    });
    expect(xs.stdout).toBe('0\n');
  });

  it("a driver domain that dies while dom0 is away is restarted by the new dom0, and the guest's vif follows it", async () => {
    const guest = join(home.path, 'web.cfg');
    writeFileSync(guest, 'name = "web"\nmemory = 16\nvif = [ \'mac=00:16:3e:00:00:42\' ]\n');
    expect(await xl('create', join(repo, 'examples', 'netback.cfg'))).toMatchObject({ code: 0 });
    expect(await xl('create', guest)).toMatchObject({ code: 0 });
    const netback = (await toolstack()).find((d) => d.name === 'netback')!;
    const web = (await toolstack()).find((d) => d.name === 'web')!;

    await killDom0();
    process.kill(netback.pid!, 'SIGKILL');
    await waitFor(() => !alive(netback.pid!), 5000, 'netback to die');
    // the new dom0 knows the vif's backend from its records alone
    await startDom0();
    const row = async (): Promise<string> => (await xl('network-list', 'web')).stdout.split('\n')[1] ?? '';
    let nb2 = netback.domid;
    await waitFor(
      async () => {
        nb2 = (await hv.listDomains()).find((d) => d.name === 'netback')?.domid ?? netback.domid;
        return nb2 !== netback.domid && (await row()).includes(`/local/domain/${nb2}/backend/vif/${web.domid}/0`);
      },
      20000,
      'the vif to move to the restarted netback',
    );
    expect(await row()).toMatch(new RegExp(`^0   ${String(nb2).padEnd(2)} 00:16:3e:00:00:42     0 `));
    expect(await xl('destroy', 'web')).toMatchObject({ code: 0 });
    expect(await xl('destroy', 'netback')).toMatchObject({ code: 0 });
  }, 60000);
});
