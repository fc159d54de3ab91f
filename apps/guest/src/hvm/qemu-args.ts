// QEMU's command line for an HVM domain, as libxl_dm.c builds one for upstream QEMU, adapted to
// Dominion: no Xen machine (QEMU runs the vCPUs itself, with KVM or TCG), disks as the VBDs' NBD exports
// from their block driver domain, NICs as datagram ports on a netback bridge, the serial port and QMP
// on Unix sockets the guest service listens on (QEMU connects to them, so no output is lost).
import { vdevToDevice } from '@dominion/xlcfg';
import { GuestError } from '../errors.js';

export type Accel = 'kvm' | 'tcg';

/** Where a VBD's NBD export is served (its backend's `nbd-socket`, or else `nbd-export`). */
export type NbdServer = { type: 'unix'; path: string } | { type: 'inet'; host: string; port: number };

export interface HvmDisk {
  /** The xl vdev (hda, xvda…), which picks the controller: hdX IDE, xvdX/sdX virtio-blk. */
  vdev: string;
  devid: number;
  cdrom: boolean;
  readOnly: boolean;
  server: NbdServer;
  export: string;
}

export interface HvmNic {
  devid: number;
  mac: string;
  /** xl's vif `model`: rtl8139 (libxl's default), e1000, virtio-net. */
  model: string;
  /** The bridge's datagram uplink this NIC sends its frames to. */
  remote: { host: string; port: number };
}

export interface HvmMachine {
  accel: Accel;
  memoryMiB: number;
  vcpus: number;
  /** Direct kernel boot (xl's kernel/ramdisk/cmdline); otherwise firmware boot in `boot` order. */
  kernel?: string;
  ramdisk?: string;
  cmdline?: string;
  boot: string;
  disks: HvmDisk[];
  nics: HvmNic[];
  serialSocket: string;
  qmpSocket: string;
  /** `host:display` for `-vnc`, when vnc=1. */
  vnc?: { listen: string; display: number; unused: boolean };
  /** How long QEMU waits for a restarting block driver domain before failing I/O (seconds). */
  reconnectDelayS: number;
  deviceModelArgs: string[];
}

const NIC_MODELS: Record<string, string> = {
  rtl8139: 'rtl8139',
  e1000: 'e1000',
  'virtio-net': 'virtio-net-pci',
  virtio: 'virtio-net-pci',
};

/** QEMU option values are comma-separated: a comma inside one is doubled. */
const opt = (v: string): string => v.replace(/,/g, ',,');

export function qemuArgs(m: HvmMachine): string[] {
  const a: string[] = [
    '-accel',
    m.accel,
    '-m',
    String(m.memoryMiB),
    '-smp',
    String(m.vcpus),
    '-nodefaults',
    '-no-reboot',
    // started stopped: the domain is created paused and runs once the toolstack unpauses it
    '-S',
    '-chardev',
    `socket,id=serial0,path=${opt(m.serialSocket)}`,
    '-serial',
    'chardev:serial0',
    '-chardev',
    `socket,id=qmp,path=${opt(m.qmpSocket)}`,
    '-mon',
    'chardev=qmp,mode=control',
  ];
  if (m.vnc) {
    a.push('-display', 'none', '-device', 'VGA', '-vnc', vncArg(m.vnc));
  } else a.push('-nographic');
  if (m.kernel) {
    a.push('-kernel', m.kernel);
    if (m.ramdisk) a.push('-initrd', m.ramdisk);
    if (m.cmdline) a.push('-append', m.cmdline);
  } else a.push('-boot', `order=${m.boot}`);

  for (const d of m.disks) a.push(...diskArgs(d, m.reconnectDelayS));
  for (const n of m.nics) a.push(...nicArgs(n));
  a.push(...m.deviceModelArgs);
  return a;
}

function vncArg(v: NonNullable<HvmMachine['vnc']>): string {
  return `${v.listen}:${v.display}${v.unused ? ',to=99' : ''}`;
}

export const nodeName = (d: Pick<HvmDisk, 'devid'>): string => `vbd${d.devid}`;

function diskArgs(d: HvmDisk, reconnectDelayS: number): string[] {
  const server =
    d.server.type === 'unix'
      ? `server.type=unix,server.path=${opt(d.server.path)}`
      : `server.type=inet,server.host=${opt(d.server.host)},server.port=${d.server.port}`;
  const node = nodeName(d);
  const blockdev = `driver=nbd,node-name=${node},${server},export=${opt(d.export)},reconnect-delay=${reconnectDelayS}${
    d.readOnly || d.cdrom ? ',read-only=on' : ''
  }`;
  const v = vdevToDevice(d.vdev);
  if (!v) throw new GuestError('EINVAL', `vbd ${d.devid}: vdev "${d.vdev}" is not a virtual device name`);
  let device: string;
  if (v.kind === 'hd') {
    if (v.partition !== 0) throw new GuestError('EINVAL', `vbd ${d.devid}: ${d.vdev} is a partition, not a disk`);
    // hda/hdb on the primary IDE channel, hdc/hdd on the secondary (PIIX has two channels of two)
    device = `${d.cdrom ? 'ide-cd' : 'ide-hd'},drive=${node},bus=ide.${v.disk >> 1},unit=${v.disk & 1}`;
  } else {
    if (d.cdrom)
      throw new GuestError(
        'EINVAL',
        `vbd ${d.devid}: a cdrom on ${d.vdev} needs an IDE vdev (hda..hdd) in an HVM guest`,
      );
    device = `virtio-blk-pci,drive=${node},id=${node}-dev`;
  }
  return ['-blockdev', blockdev, '-device', device];
}

function nicArgs(n: HvmNic): string[] {
  const model = NIC_MODELS[n.model];
  if (!model)
    throw new GuestError(
      'EINVAL',
      `vif ${n.devid}: model "${n.model}" is not one Dominion emulates (${Object.keys(NIC_MODELS).join(', ')})`,
    );
  const id = `vif${n.devid}`;
  return [
    '-netdev',
    `dgram,id=${id},local.type=inet,local.host=127.0.0.1,local.port=0,remote.type=inet,remote.host=${opt(n.remote.host)},remote.port=${n.remote.port}`,
    '-device',
    // no option ROM: iPXE would only add seconds to every boot that is not a network boot
    `${model},netdev=${id},mac=${n.mac},romfile=`,
  ];
}
