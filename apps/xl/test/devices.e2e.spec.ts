// xl's device commands as a user runs them: the built launcher brings the system up, `xl create
// examples/netback.cfg` starts the net driver domain (apps/netback as a domain), a guest with a vif on
// xenbr0 connects to it, and xl network-list / block-attach / block-list / block-detach / network-detach
// print and change what XenStore holds, in xl's formats. With examples/blkback.cfg (apps/blkback), a disk
// hot-attached to the running guest connects, and follows blkback to its new domid when it is killed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busRequest, subjects } from '@dominion/bus';
import { waitFor } from '@dominion/testing';
import { repo, startDominion, type Dominion } from './dominion-e2e.js';

const netbackCfg = join(repo, 'examples', 'netback.cfg');
const blkbackCfg = join(repo, 'examples', 'blkback.cfg');
const MAC = '00:16:3e:12:34:56';

describe('xl network-* and block-* (end to end)', () => {
  let dominion: Dominion;
  let nb: number;
  let g: number;
  const xl = (...args: string[]) => dominion.xl(...args);
  const domid = async (name: string): Promise<number> =>
    (await dominion.hv.listDomains()).find((d) => d.name === name)!.domid;

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-devices-');
    const cfg = join(dominion.home.path, 'web.cfg');
    writeFileSync(cfg, `name = "web"\nmemory = 32\nvif = [ 'mac=${MAC}, bridge=xenbr0' ]\n`);
    expect(await xl('create', netbackCfg)).toMatchObject({ code: 0 });
    expect(await xl('create', cfg)).toMatchObject({ code: 0, stderr: `Parsing config from ${cfg}\n` });
    nb = await domid('netback');
    g = await domid('web');
  }, 60000);

  afterAll(async () => {
    expect(await dominion?.stop()).toBe(0);
  });

  it("network-list shows the guest's vif served by netback, connected", async () => {
    const header = 'Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       \n';
    // the rings are the frontend's: wait for it to connect, then print the row with what it published
    let out = '';
    await waitFor(
      async () => {
        out = (await xl('network-list', 'web')).stdout;
        return / {5}4 /.test(out.split('\n')[1] ?? '');
      },
      10000,
      'the vif to connect',
    );
    const m = new RegExp(
      `^0   ${String(nb).padEnd(2)} ${MAC}     0     4 +(\\d+) +(\\d+)/(\\d+) +/local/domain/${nb}/backend/vif/${g}/0$`,
    ).exec(out.slice(header.length).trimEnd());
    expect(out.startsWith(header)).toBe(true);
    expect(m).not.toBeNull();
    // an unknown domain: find_domain's message, exit 1
    expect(await xl('network-list', 'nosuch')).toMatchObject({
      code: 1,
      stderr: 'nosuch is an invalid domain identifier (rc=-6)\n',
    });
  });

  it('block-attach writes the vbd dirs, block-list prints them, block-detach --force removes them', async () => {
    const header = 'Vdev  BE  handle state evt-ch ring-ref BE-path                       \n';
    // no block driver domain runs: the default backend is missing, said plainly
    const refused = await xl('block-attach', 'web', 'format=raw, vdev=xvdb, access=rw, target=web.img');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'vbd xvdb: no backend= given and no driver domain named "blkback" exists; dom0 serves no vbd in Dominion: ' +
        'create one (xl create examples/blkback.cfg) or name one with backend=<domain>\nlibxl_device_disk_add failed.\n',
    );
    // any driver domain can hold the dirs (netback does not serve vbds: the frontend stays at 1 or closes)
    expect(await xl('block-attach', 'web', 'format=raw, vdev=xvdb, backend=netback, target=web.img')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    const listed = await xl('block-list', 'web', 'nosuch');
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('nosuch is an invalid domain identifier\n');
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${header}51728 ${String(nb).padEnd(3)} ${String(g).padEnd(6)} [1-6]     (-1    |\\d+ +) (-1      |\\d+ +) /local/domain/${nb}/backend/vbd/${g}/51728\\n$`,
      ),
    );
    expect(await xl('block-detach', 'web', 'xvdc')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: Device xvdc not connected.\n',
    });
    expect(await xl('block-detach', '--force', 'web', '51728')).toMatchObject({ code: 0, stderr: '' });
    expect(await xl('block-list', 'web')).toEqual({ code: 0, stdout: header, stderr: '' });
  });

  it('network-attach adds a vif with a random Xen MAC; network-detach by mac removes it', async () => {
    expect(await xl('network-attach', 'web', 'bridge=xenbr0', 'nosuchkey=1')).toMatchObject({ code: 1 });
    expect(await xl('network-attach', 'web', 'bridge=xenbr0')).toMatchObject({ code: 0, stderr: '' });
    const rows = (await xl('network-list', 'web')).stdout.split('\n').slice(1, -1);
    expect(rows).toHaveLength(2);
    const mac = /^1 {3}\S+ +(00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}) +1 /.exec(rows[1])?.[1];
    expect(mac).toBeDefined();
    expect(await xl('network-detach', 'web', mac!)).toMatchObject({ code: 0, stderr: '' });
    expect(await xl('network-detach', 'web', mac!)).toMatchObject({ code: 1, stderr: `Unknown device ${mac!}.\n` });
    expect((await xl('network-list', 'web')).stdout.split('\n').slice(1, -1)).toHaveLength(1);
  }, 30000);

  it('with blkback: a hot-attached disk connects, follows a killed blkback to its new domid, and detaches', async () => {
    expect(await xl('create', blkbackCfg)).toMatchObject({ code: 0 });
    const bb = await domid('blkback');
    // the default backend now exists; size= is Dominion's: blkback creates the sparse image
    expect(await xl('block-attach', 'web', 'format=raw, vdev=xvdc, access=rw, size=8M, target=web-c.img')).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    const row = async (): Promise<string> => (await xl('block-list', 'web')).stdout.split('\n')[1] ?? '';
    const connected = (be: number) =>
      new RegExp(
        `^51744 ${String(be).padEnd(3)} ${String(g).padEnd(6)} 4     .* /local/domain/${be}/backend/vbd/${g}/51744$`,
      );
    await waitFor(async () => connected(bb).test(await row()), 10000, 'the disk to connect');

    // the driver domain's process, as the toolstack knows it
    const { domains } = await busRequest<{ domains: { domid: number; pid?: number }[] }>(
      dominion.nc,
      subjects.toolstack(0, 'list'),
      {},
      { timeoutMs: 5000 },
    );
    process.kill(domains.find((d) => d.domid === bb)!.pid!, 'SIGKILL');
    await waitFor(
      async () => ![undefined, bb].includes((await dominion.hv.listDomains()).find((d) => d.name === 'blkback')?.domid),
      20000,
      'blkback to restart',
    );
    const bb2 = await domid('blkback');
    await waitFor(async () => connected(bb2).test(await row()), 15000, 'the disk to reconnect to the new blkback');

    // without --force: waits for the frontend to release the disk
    expect(await xl('block-detach', 'web', 'xvdc')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await xl('block-list', 'web')).stdout.split('\n')).toHaveLength(2);
  }, 60000);
});
