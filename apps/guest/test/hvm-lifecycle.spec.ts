// An HVM domain's lifecycle without PV drivers, on three VMs booted at once (Debian's kernel, a busybox
// /init that idles): control/shutdown (which the guest OS never reads) is the toolstack's ACPI request, so
// reboot resets the machine and QEMU, run with -no-reboot, exits with the domain's reason reboot; a
// shutdown the hypervisor imposes ends QEMU and the service; the service stopping (xl destroy) quits QEMU.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@dominion/bus';
import { NodeFileIO } from '@dominion/fsio';
import { Hypervisor, HypervisorClient, serveHypervisor, type HypervisorServer } from '@dominion/hypervisor';
import { startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@dominion/testing';
import { domainHomeWrites } from '@dominion/toolstack';
import { Xenstored, XenstoreClient, XsNatsTransport } from '@dominion/xenstore';
import { GuestModule } from '../src/guest.module.js';
import { GuestService } from '../src/guest.service.js';
import { hostKernel, type HvmDomain } from '../src/hvm/index.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo "HVM-IDLE-UP"
while true; do sleep 1; done
`;

interface Vm {
  domid: number;
  app: TestingModule;
  guest: GuestService;
  out: () => string;
}

describe('HVM domain lifecycle', () => {
  let srv: NatsServerHandle;
  let nc: NatsConnection;
  let hvServer: HypervisorServer;
  let xsd: Xenstored;
  let transport: XsNatsTransport;
  let dir: ReturnType<typeof tempDir>;
  let hv0: HypervisorClient;
  let dom0: XenstoreClient;
  let kernel: string;
  let initrd: string;
  const vms: Vm[] = [];

  async function boot(name: string, uuid: string): Promise<Vm> {
    const domid = await hv0.createDomain({ name, type: 'hvm', target_memkb: 128 * 1024 });
    await xsd.introduceDomain(domid);
    for (const w of [
      ...domainHomeWrites({
        domid,
        name,
        uuid,
        type: 'hvm',
        targetKiB: 128 * 1024,
        staticMaxKiB: 128 * 1024,
        vcpus: 1,
        driverDomain: false,
        startTimeMs: Date.now(),
      }),
      { path: `/local/domain/${domid}/device-model`, value: '', perms: [{ domid, perm: 'n' as const }] },
    ]) {
      await dom0.write(w.path, w.value);
      await dom0.setPerms(w.path, w.perms);
    }
    let out = '';
    nc.subscribe(subjects.console(domid, 'out'), { callback: (_e, m) => void (out += m.string()) });
    await nc.flush();
    const stateDir = join(dir.path, 'guests', `${name}.${domid}`);
    mkdirSync(stateDir, { recursive: true });
    @Module({
      imports: [
        GuestModule.forRoot({
          env: {
            DOMINION_NATS_URL: srv.url,
            DOMINION_DOMID: String(domid),
            DOMINION_STATE_DIR: stateDir,
            DOMINION_LOG_LEVEL: 'silent',
            DOMINION_HVM_ACCEL: 'tcg',
            DOMINION_XLCFG: [
              `name = "${name}"`,
              'type = "hvm"',
              'memory = 128',
              `kernel = "${kernel}"`,
              `ramdisk = "${initrd}"`,
              'cmdline = "console=ttyS0 panic=-1 quiet"',
              'serial = "pty"',
            ].join('\n'),
          },
          guest: { orphanCheckMs: 200 },
        }),
      ],
    })
    class TestHvm {}
    const app = await Test.createTestingModule({ imports: [TestHvm] }).compile();
    await app.init();
    await hv0.unpauseDomain(domid);
    const vm = { domid, app, guest: app.get(GuestService), out: () => out };
    vms.push(vm);
    return vm;
  }

  let rebooted: Vm;
  let imposed: Vm;
  let destroyed: Vm;

  beforeAll(async () => {
    const k = hostKernel();
    if (!k)
      throw new Error("no /boot/vmlinuz-*: the HVM test boots Debian's kernel (apt-get install linux-image-amd64)");
    kernel = k;
    dir = tempDir('hvm-life-');
    writeFileSync(join(dir.path, 'init'), INIT);
    initrd = join(dir.path, 'initrd.cpio.gz');
    execFileSync(join(repo, 'tools', 'hvm', 'build-initramfs.sh'), [initrd, join(dir.path, 'init')]);

    srv = await startNatsServer();
    nc = await connect({ servers: srv.url });
    hvServer = serveHypervisor(
      nc,
      new Hypervisor({ host: { totalMemoryKiB: 4 << 20, nrCpus: 2, dom0MemoryKiB: 1 << 20, dom0Vcpus: 2 } }),
    );
    xsd = await Xenstored.open({ io: new NodeFileIO(), dir: join(dir.path, 'xenstore') });
    transport = new XsNatsTransport(xsd, nc);
    await transport.start();
    hv0 = new HypervisorClient(nc, 0);
    dom0 = new XenstoreClient(nc, { domid: 0 });
    [rebooted, imposed, destroyed] = await Promise.all([
      boot('hvm-a', '1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d'),
      boot('hvm-b', '2b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d'),
      boot('hvm-c', '3b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d'),
    ]);
    await waitFor(() => vms.every((v) => v.out().includes('HVM-IDLE-UP')), 90_000, 'the three VMs to boot');
  }, 120_000);

  afterAll(async () => {
    for (const v of vms) await v.app.close();
    await dom0?.close();
    await transport?.stop();
    await xsd?.close();
    hvServer?.close();
    await nc?.close();
    await srv?.stop();
    dir?.remove();
  });

  const dm = (v: Vm) => (v.guest.kernel as HvmDomain).dm!;

  it('DOMINION_HVM_ACCEL skips the probe', () => {
    expect((rebooted.guest.kernel as HvmDomain).accel).toEqual({
      accel: 'tcg',
      why: 'DOMINION_HVM_ACCEL',
      cached: false,
    });
  });

  it('control/shutdown=reboot resets the VM: QEMU exits, the request is taken, the domain reboots', async () => {
    const home = `/local/domain/${rebooted.domid}`;
    await dom0.write(`${home}/control/shutdown`, 'reboot');
    expect(await rebooted.guest.halted).toBe('reboot');
    expect((await dm(rebooted).exited).cause).toBe('host-qmp-system-reset');
    expect(await dom0.read(`${home}/control/shutdown`)).toBe('');
    expect((await hv0.getDomainInfo(rebooted.domid)).shutdown_reason).toBe('reboot');
  }, 30_000);

  it('a shutdown the hypervisor imposes (dom0 for xl shutdown -F today) ends QEMU and the service', async () => {
    await hv0.shutdown('poweroff', imposed.domid);
    expect(await imposed.guest.halted).toBe('poweroff');
    expect((await dm(imposed).exited).cause).toBe('host-qmp-quit');
  }, 30_000);

  it('the service stopping (xl destroy kills it) quits QEMU, reporting no shutdown of its own', async () => {
    const qemu = dm(destroyed);
    expect(await qemu.running()).toBe(true);
    await destroyed.app.close();
    vms.splice(vms.indexOf(destroyed), 1);
    expect((await qemu.exited).cause).toBe('host-qmp-quit');
    expect((await hv0.getDomainInfo(destroyed.domid)).shutdown).toBe(false);
  }, 30_000);
});
