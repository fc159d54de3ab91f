// An HVM domain's "kernel": a QEMU process (hvm/device-model.ts) run as Xen runs an HVM guest's device model.
// - The accelerator is probed once per host (hvm/accel-probe.ts) and published with the device model's
//   state under /local/domain/<id>/device-model/<id>/ (Xen's /local/domain/<dm>/device-model/<domid>,
//   the device-model domain being the domain itself here): `state` (running) and `accel` (kvm|tcg).
// - Disks and NICs come from the driver domains (hvm/hvm-devices.ts); no frontend is run.
// - The hypervisor's view of the domain drives QEMU: paused → QMP stop, unpaused → cont (QEMU starts
//   stopped: a domain is created paused), shut down by the hypervisor → quit.
// - control/shutdown, which an HVM guest without PV drivers never reads, is taken as the toolstack's ACPI
//   request (xl shutdown/reboot -F): poweroff/halt press the power button, reboot resets. No
//   control/feature-* is written: xl must see no PV control interface.
// - QEMU's end is the domain's shutdown: the OS powered off → poweroff, reset → reboot, a panic or a QEMU
//   that died without a SHUTDOWN cause → crash.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HypervisorClient } from '@dominion/hypervisor';
import type { XenstoreClient } from '@dominion/xenstore';
import type { GuestApi, GuestKernel, GuestShutdownReason } from '../kernel.js';
import { probeAccel, type AccelAnswer } from './accel-probe.js';
import { DeviceModel, type DeviceModelExit } from './device-model.js';
import { hvmDisks, hvmNics } from './hvm-devices.js';
import type { HvmOptions } from './hvm-options.js';
import type { HvmMachine } from './qemu-args.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

export interface HvmDomainDeps {
  xs: XenstoreClient;
  hv: Pick<HypervisorClient, 'getDomainInfo'>;
  domid: number;
  home: string;
  stateDir: string;
  opts: HvmOptions;
  log: (level: Level, msg: string, fields?: Record<string, unknown>) => void;
}

/** QEMU's SHUTDOWN causes (qapi/run-state.json ShutdownCause) as the domain's shutdown reason. */
export function shutdownReasonOf(exit: Pick<DeviceModelExit, 'cause'>): GuestShutdownReason {
  switch (exit.cause) {
    case 'guest-shutdown':
    case 'host-qmp-system-powerdown':
      return 'poweroff';
    case 'guest-reset':
    case 'host-qmp-system-reset':
    case 'subsystem-reset':
      return 'reboot';
    default:
      return 'crash';
  }
}

/** Unix socket paths are at most 107 bytes: a deep state dir gets a private directory under tmp instead. */
const SOCKET_PATH_MAX = 100;

export class HvmDomain implements GuestKernel {
  readonly name = 'hvm';
  dm?: DeviceModel;
  accel?: AccelAnswer;
  machine?: Omit<HvmMachine, 'serialSocket' | 'qmpSocket'>;
  private socketDir = '';
  private stopping = false;
  private pollTimer?: NodeJS.Timeout;
  /** What QEMU was last told: undefined until the first read of the domain's state. */
  private running?: boolean;
  private api?: GuestApi;

  constructor(private readonly d: HvmDomainDeps) {}

  get dmPath(): string {
    return `${this.d.home}/device-model/${this.d.domid}`;
  }

  async start(api: GuestApi): Promise<void> {
    const { opts, xs, home, log } = this.d;
    const c = opts.config;
    this.api = api;
    this.accel = opts.accel
      ? { accel: opts.accel, why: 'DOMINION_HVM_ACCEL', cached: false }
      : await probeAccel({
          qemu: opts.qemu,
          cacheFile: opts.accelCache ?? join(dirname(this.d.stateDir), 'hvm-accel.json'),
          kernel: c.kernel,
          timeoutMs: opts.probeTimeoutMs,
        });
    log('info', `hvm: accelerator ${this.accel.accel} (${this.accel.why}${this.accel.cached ? ', cached' : ''})`);

    const disks = await hvmDisks(xs, home, opts.deviceWaitMs);
    const nics = await hvmNics(xs, home, c.vifs, opts.deviceWaitMs, (l, m) => log(l, `hvm: ${m}`));
    const h = c.hvm;
    const vnc = h.vnc ? vncOf(h.vnclisten, h.vncdisplay, h.vncunused) : undefined;
    this.machine = {
      accel: this.accel.accel,
      memoryMiB: c.memory,
      vcpus: c.vcpus,
      boot: h.boot,
      disks,
      nics,
      reconnectDelayS: opts.reconnectDelayS,
      deviceModelArgs: h.deviceModelArgs,
      ...(vnc && { vnc }),
      ...(c.kernel !== undefined && { kernel: c.kernel }),
      ...(c.ramdisk !== undefined && { ramdisk: c.ramdisk }),
      ...(c.cmdline !== undefined && { cmdline: c.cmdline }),
    };

    this.socketDir = privateDir(join(this.d.stateDir, 'hvm'));
    this.dm = await DeviceModel.start({
      qemu: opts.qemu,
      machine: this.machine,
      socketDir: this.socketDir,
      console: (t) => api.console.write(t),
    });
    log('info', `hvm: QEMU ${this.dm.pid} started`, { args: this.dm.args });
    void this.dm.exited.then((exit) => this.onExit(api, exit));

    await this.publish('accel', this.accel.accel);
    await this.publish('state', 'running');
    await this.syncState();
    await xs.watch(`${home}/control/shutdown`, 'hvm-control/shutdown', () => void this.onShutdownRequest());
  }

  input(line: string): void {
    this.dm?.input(`${line}\n`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    await this.d.xs.unwatch(`${this.d.home}/control/shutdown`, 'hvm-control/shutdown').catch(() => undefined);
    if (this.dm) await this.dm.quit();
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
  }

  /**
   * Device-model keys (Xen's /local/domain/<dm>/device-model/<domid>/); writable only if the toolstack made
   * the dir the domain's, so a refusal is logged, not fatal.
   */
  private async publish(key: string, value: string): Promise<void> {
    try {
      await this.d.xs.write(`${this.dmPath}/${key}`, value);
    } catch (e) {
      this.d.log('warn', `hvm: cannot write ${this.dmPath}/${key}: ${(e as Error).message}`);
    }
  }

  /** Follows the hypervisor: pause/unpause, and a shutdown it imposed (the domain is over: QEMU goes). */
  private async syncState(): Promise<void> {
    if (this.stopping || !this.dm) return;
    try {
      const info = await this.d.hv.getDomainInfo(this.d.domid);
      if (info.shutdown || info.dying) {
        this.d.log('info', `hvm: the hypervisor shut the domain down (${info.shutdown_reason ?? 'dying'}): QEMU quits`);
        this.stopping = true;
        await this.dm.quit();
        // the domain is over: halted, as after its own shutdown (SCHEDOP_shutdown is then a no-op)
        const r = info.shutdown_reason;
        if (info.shutdown)
          await this.api?.shutdown(r === 'poweroff' || r === 'reboot' || r === 'suspend' ? r : 'crash');
        return;
      }
      const run = !info.paused;
      if (run !== this.running) {
        await this.dm.setRunning(run);
        this.running = run;
        this.d.log('info', `hvm: vCPUs ${run ? 'running (cont)' : 'paused (stop)'}`);
      }
    } catch (e) {
      if (!this.dm.qmp.closed) this.d.log('debug', `hvm: reading the domain's state: ${(e as Error).message}`);
    }
    if (!this.stopping) {
      this.pollTimer = setTimeout(() => void this.syncState(), this.d.opts.statePollMs);
      this.pollTimer.unref();
    }
  }

  private async onShutdownRequest(): Promise<void> {
    const path = `${this.d.home}/control/shutdown`;
    const value = await this.d.xs.tryRead(path);
    if (!value || this.stopping || !this.dm) return;
    this.d.log('info', `hvm: control/shutdown=${value}: ${value === 'reboot' ? 'reset' : 'ACPI power button'}`);
    await this.d.xs.write(path, '');
    if (value === 'poweroff' || value === 'halt') await this.dm.powerButton();
    else if (value === 'reboot') await this.dm.reset();
    else this.d.log('warn', `hvm: ignoring control/shutdown=${value}`);
  }

  private async onExit(api: GuestApi, exit: DeviceModelExit): Promise<void> {
    clearTimeout(this.pollTimer);
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    const reason = shutdownReasonOf(exit);
    const how = `cause ${exit.cause ?? 'none'}, ${exit.signal ?? `status ${exit.code}`}`;
    if (this.stopping) return this.d.log('info', `hvm: QEMU ended (${how})`);
    this.stopping = true;
    this.d.log(reason === 'crash' ? 'warn' : 'info', `hvm: QEMU ended (${how}): the domain's shutdown is ${reason}`, {
      ...(reason === 'crash' && { stderr: exit.stderr }),
    });
    await api.shutdown(reason).catch((e: unknown) => this.d.log('error', `hvm: SCHEDOP_shutdown: ${String(e)}`));
  }
}

function vncOf(listen: string, display: number | undefined, unused: boolean): NonNullable<HvmMachine['vnc']> {
  const m = /^(.*):([0-9]+)$/.exec(listen);
  return { listen: m ? m[1] : listen, display: display ?? (m ? Number(m[2]) : 0), unused };
}

function privateDir(preferred: string): string {
  if (preferred.length + '/serial0.sock'.length <= SOCKET_PATH_MAX) {
    rmSync(preferred, { recursive: true, force: true });
    mkdirSync(preferred, { recursive: true, mode: 0o700 });
    return preferred;
  }
  return mkdtempSync(join(tmpdir(), 'dominion-hvm-'));
}
