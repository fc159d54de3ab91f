// The pure parts of the HVM device model: QEMU's command line per disk/NIC kind, QEMU's SHUTDOWN causes
// as Xen shutdown reasons, the NBD URI a backend publishes, and which environment makes a domain HVM.
import { GuestError } from '../src/errors.js';
import {
  hvmOptionsFromEnv,
  parseNbdUri,
  qemuArgs,
  shutdownReasonOf,
  type HvmDisk,
  type HvmMachine,
} from '../src/hvm/index.js';

const machine = (over: Partial<HvmMachine> = {}): HvmMachine => ({
  accel: 'tcg',
  memoryMiB: 512,
  vcpus: 2,
  boot: 'cd',
  disks: [],
  nics: [],
  serialSocket: '/run/d/serial0.sock',
  qmpSocket: '/run/d/qmp.sock',
  reconnectDelayS: 60,
  deviceModelArgs: [],
  ...over,
});

const disk = (over: Partial<HvmDisk>): HvmDisk => ({
  vdev: 'xvda',
  devid: 51712,
  cdrom: false,
  readOnly: false,
  server: { type: 'unix', path: '/s/vbd.sock' },
  export: 'vbd-3-51712',
  ...over,
});

const after = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

describe('qemuArgs', () => {
  it('firmware boot: accelerator, memory, vCPUs, stopped, serial and QMP on the sockets, boot order', () => {
    expect(qemuArgs(machine())).toEqual([
      ...['-accel', 'tcg', '-m', '512', '-smp', '2', '-nodefaults', '-no-reboot', '-S'],
      ...['-chardev', 'socket,id=serial0,path=/run/d/serial0.sock', '-serial', 'chardev:serial0'],
      ...['-chardev', 'socket,id=qmp,path=/run/d/qmp.sock', '-mon', 'chardev=qmp,mode=control'],
      ...['-nographic', '-boot', 'order=cd'],
    ]);
  });

  it('direct kernel boot replaces the boot order; device_model_args come last', () => {
    const a = qemuArgs(
      machine({ kernel: '/k', ramdisk: '/r', cmdline: 'console=ttyS0', deviceModelArgs: ['-device', 'pvpanic'] }),
    );
    expect(a.slice(-8)).toEqual(['-kernel', '/k', '-initrd', '/r', '-append', 'console=ttyS0', '-device', 'pvpanic']);
    expect(a).not.toContain('-boot');
  });

  it('xvdX is virtio-blk, hdX IDE by channel and unit, a cdrom ide-cd read-only; over unix or inet NBD', () => {
    const a = qemuArgs(
      machine({
        disks: [
          disk({}),
          disk({ vdev: 'hdb', devid: 832, server: { type: 'inet', host: '127.0.0.1', port: 10809 }, export: 'e2' }),
          disk({ vdev: 'hdc', devid: 5632, cdrom: true, export: 'iso' }),
        ],
      }),
    );
    expect(after(a, '-blockdev')).toEqual([
      'driver=nbd,node-name=vbd51712,server.type=unix,server.path=/s/vbd.sock,export=vbd-3-51712,reconnect-delay=60',
      'driver=nbd,node-name=vbd832,server.type=inet,server.host=127.0.0.1,server.port=10809,export=e2,reconnect-delay=60',
      'driver=nbd,node-name=vbd5632,server.type=unix,server.path=/s/vbd.sock,export=iso,reconnect-delay=60,read-only=on',
    ]);
    expect(after(a, '-device')).toEqual([
      'virtio-blk-pci,drive=vbd51712,id=vbd51712-dev',
      'ide-hd,drive=vbd832,bus=ide.0,unit=1',
      'ide-cd,drive=vbd5632,bus=ide.1,unit=0',
    ]);
  });

  it('a comma in a value is doubled, so it cannot add options', () => {
    const a = qemuArgs(machine({ disks: [disk({ export: 'a,file=/etc/passwd' })] }));
    expect(after(a, '-blockdev')[0]).toContain('export=a,,file=/etc/passwd,reconnect-delay');
  });

  it('refuses a cdrom on a virtio vdev and an unknown NIC model, naming the device; accepts their good forms', () => {
    expect(() => qemuArgs(machine({ disks: [disk({ cdrom: true })] }))).toThrow(
      new GuestError('EINVAL', 'vbd 51712: a cdrom on xvda needs an IDE vdev (hda..hdd) in an HVM guest'),
    );
    const nic = { devid: 0, mac: '00:16:3e:00:00:01', remote: { host: '127.0.0.1', port: 40000 } };
    expect(() => qemuArgs(machine({ nics: [{ ...nic, model: 'ne2k' }] }))).toThrow(/vif 0: model "ne2k"/);
    const a = qemuArgs(machine({ nics: [{ ...nic, model: 'virtio-net' }] }));
    expect(after(a, '-netdev')).toEqual([
      'dgram,id=vif0,local.type=inet,local.host=127.0.0.1,local.port=0,remote.type=inet,remote.host=127.0.0.1,remote.port=40000',
    ]);
    expect(after(a, '-device')).toEqual(['virtio-net-pci,netdev=vif0,mac=00:16:3e:00:00:01,romfile=']);
  });

  it('vnc=1: a VGA on a VNC display instead of -nographic', () => {
    const a = qemuArgs(machine({ vnc: { listen: '127.0.0.1', display: 3, unused: true } }));
    expect(a).not.toContain('-nographic');
    expect(after(a, '-vnc')).toEqual(['127.0.0.1:3,to=99']);
    expect(after(a, '-device')).toEqual(['VGA']);
  });
});

describe('shutdownReasonOf', () => {
  it("maps QEMU's SHUTDOWN causes to Xen's reasons; none (QEMU died) is a crash", () => {
    expect(shutdownReasonOf({ cause: 'guest-shutdown' })).toBe('poweroff');
    expect(shutdownReasonOf({ cause: 'guest-reset' })).toBe('reboot');
    expect(shutdownReasonOf({ cause: 'host-qmp-system-reset' })).toBe('reboot');
    expect(shutdownReasonOf({ cause: 'guest-panic' })).toBe('crash');
    expect(shutdownReasonOf({})).toBe('crash');
  });
});

describe('parseNbdUri', () => {
  it("reads blkback's nbd-export; refuses what is not nbd://", () => {
    expect(parseNbdUri('nbd://127.0.0.1:10809/vbd-5-51712')).toEqual({
      host: '127.0.0.1',
      port: 10809,
      export: 'vbd-5-51712',
    });
    expect(() => parseNbdUri('http://x/y')).toThrow('nbd-export "http://x/y" is not an nbd://host[:port]/name URI');
  });
});

describe('hvmOptionsFromEnv', () => {
  it('is HVM only for an xl.cfg with type = "hvm"; DOMINION_HVM_ACCEL forces the accelerator', () => {
    expect(hvmOptionsFromEnv({})).toBeUndefined();
    expect(hvmOptionsFromEnv({ DOMINION_XLCFG: 'name="a"\n' })).toBeUndefined();
    const o = hvmOptionsFromEnv({ DOMINION_XLCFG: 'name="a"\ntype="hvm"\nmemory=128\n', DOMINION_HVM_ACCEL: 'tcg' })!;
    expect(o.config.memory).toBe(128);
    expect(o.config.hvm.boot).toBe('cd');
    expect(o.accel).toBe('tcg');
    expect(o.qemu).toBe('qemu-system-x86_64');
  });

  it('refuses a bad accelerator and a bad xl.cfg, naming the variable', () => {
    expect(() => hvmOptionsFromEnv({ DOMINION_XLCFG: 'name="a"\ntype="hvm"\n', DOMINION_HVM_ACCEL: 'hax' })).toThrow(
      'DOMINION_HVM_ACCEL="hax": expected kvm or tcg (unset: probe)',
    );
    expect(() => hvmOptionsFromEnv({ DOMINION_XLCFG: 'name=\n' })).toThrow(/^DOMINION_XLCFG:1:6: config parsing error/);
  });
});
