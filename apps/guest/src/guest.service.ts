// The domU service: boots its kernel against the console and XenStore over the bus, and honours
// control/shutdown as a Xen PV guest does (ack with "", then SCHEDOP_shutdown, then exit).
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { errnoOf, subjects } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import { DOMAIN_CONFIG, LOGGER, NATS_CONNECTION, type DomainConfig, type Logger } from '@dominion/runtime';
import { XenstoreClient } from '@dominion/xenstore';
import { readFileSync } from 'node:fs';
import { seedOfCreds } from '@dominion/identity';
import { NOAUTH_RING_SEED } from '@dominion/identity';
import { Netfronts } from './netfront/index.js';
import { EventChannels } from '@dominion/evtchn';
import { Blkfront } from './blkfront/index.js';
import { CONSOLE_OP_HEADER, CONSOLE_OP_RING, inputLines } from './console-protocol.js';
import { ConsoleRing } from './console-ring.js';
import { GuestError } from './errors.js';
import { GUEST_OPTIONS, type GuestOptions } from './guest-options.js';
import type { GuestApi, GuestKernel, GuestShutdownReason } from './kernel.js';
import { loadKernel } from './kernel-loader.js';
import { HvmDomain } from './hvm/hvm-domain.js';
import { GuestMemory } from './memory.js';
import { resolveXsPath } from './xs-path.js';

/**
 * A dom0 that restarts loses this guest's XenStore session and with it the control/shutdown watch; the next
 * keepalive finds the session new and registers the watch again. Kept well under the toolstack's 10 s wait
 * for a shutdown, so `xl shutdown` works soon after a dom0 restart.
 */
const XS_KEEPALIVE_MS = 2000;

/** No answer from the hypervisor for this long: the system is gone, and so is this domain. */
const BUS_LOST_MS = 30_000;

const SHUTDOWN_REQUESTS: Record<string, GuestShutdownReason> = {
  poweroff: 'poweroff',
  halt: 'poweroff',
  reboot: 'reboot',
  suspend: 'suspend',
};

@Injectable()
export class GuestService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly ring: ConsoleRing;
  memory?: GuestMemory;
  kernel?: GuestKernel;
  home = '';
  /** Resolves with the reason once this domain has shut itself down; the process should then exit. */
  readonly halted: Promise<GuestShutdownReason>;
  private resolveHalted!: (r: GuestShutdownReason) => void;
  /**
   * Resolves with why, once this process has no domain left to run: the hypervisor no longer knows it
   * (destroyed while no dom0 was there to stop this process), or the bus has been gone for BUS_LOST_MS (the
   * system was stopped). Guests run detached from dom0, so nothing else would end them.
   */
  readonly orphaned: Promise<string>;
  private resolveOrphaned!: (why: string) => void;
  private orphanTimer?: NodeJS.Timeout;
  private shuttingDown = false;
  private xs?: XenstoreClient;
  private hv?: HypervisorClient;
  /** The NICs (netfront per device/vif/<n>). */
  net?: Netfronts;
  /** The disks (blkfront per device/vbd/<devid>). */
  blk?: Blkfront;
  private evtchn?: EventChannels;
  private inSub?: Subscription;
  private bootedAt = Date.now();

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(GUEST_OPTIONS) private readonly opts: GuestOptions,
  ) {
    this.ring = new ConsoleRing(opts.consoleRingBytes);
    this.halted = new Promise((r) => (this.resolveHalted = r));
    this.orphaned = new Promise((r) => (this.resolveOrphaned = r));
  }

  get domid(): number {
    if (this.cfg.domid === undefined) throw new GuestError('EINVAL', 'guest: DOMINION_DOMID is not set');
    return this.cfg.domid;
  }

  async onApplicationBootstrap(): Promise<void> {
    const domid = this.domid;
    this.bootedAt = Date.now();
    this.hv = new HypervisorClient(this.nc, domid);
    const xs = new XenstoreClient(this.nc, {
      domid,
      onError: (e) => this.log.warn({ err: e }, 'xenstore'),
      keepaliveMs: XS_KEEPALIVE_MS,
    });
    this.xs = xs;
    this.home = await xs.getDomainPath(domid);
    const target = await xs.read(`${this.home}/memory/target`);
    if (!/^[0-9]+$/.test(target))
      throw new GuestError('EINVAL', `domain ${domid}: ${this.home}/memory/target "${target}" is not KiB`);
    this.memory = new GuestMemory(Math.floor(Number(target) / 4) * 4 || 4);

    this.inSub = this.nc.subscribe(subjects.console(domid, 'in'), {
      callback: (err, m) => {
        if (!err) this.onInput(m);
      },
    });
    if (this.opts.hvm) return this.bootHvm(this.opts.hvm);
    this.net = await this.startNetfronts();
    this.blk = await this.startBlkfront();
    this.kernel = await loadKernel(this.opts.kernel);
    await this.kernel.start(this.api());

    await xs.write(`${this.home}/control/feature-poweroff`, '1');
    await xs.write(`${this.home}/control/feature-reboot`, '1');
    await xs.watch(`${this.home}/control/shutdown`, 'control/shutdown', () => this.onShutdownRequest());
    this.log.info({ kernel: this.opts.kernel, home: this.home }, 'guest booted');
    this.watchForOrphaning();
  }

  /** An HVM domain: its kernel is QEMU, with no PV frontends and no PV control interface. */
  private async bootHvm(opts: NonNullable<GuestOptions['hvm']>): Promise<void> {
    const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
      this.log[level](fields ?? {}, msg);
    const hvm = new HvmDomain({
      xs: this.xs!,
      hv: this.hv!,
      domid: this.domid,
      home: this.home,
      stateDir: this.cfg.stateDir,
      opts,
      log,
    });
    this.kernel = hvm;
    await hvm.start(this.api());
    this.log.info({ home: this.home, accel: hvm.accel?.accel }, 'hvm guest booted');
    this.watchForOrphaning();
  }

  private watchForOrphaning(): void {
    let lastHeard = Date.now();
    const check = async (): Promise<void> => {
      try {
        await this.hv!.getDomainInfo();
        lastHeard = Date.now();
      } catch (e) {
        if (errnoOf(e) === 'ESRCH') return this.resolveOrphaned(`domain ${this.domid} no longer exists`);
        if (Date.now() - lastHeard > BUS_LOST_MS)
          return this.resolveOrphaned(`the hypervisor has not answered for ${BUS_LOST_MS / 1000} s`);
      }
      this.orphanTimer = setTimeout(() => void check(), this.opts.orphanCheckMs);
      this.orphanTimer.unref();
    };
    this.orphanTimer = setTimeout(() => void check(), this.opts.orphanCheckMs);
    this.orphanTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.orphanTimer);
    this.inSub?.unsubscribe();
    await this.kernel?.stop?.();
    await this.net?.stop();
    await this.blk?.stop();
    this.evtchn?.dispose();
    await this.xs?.close();
  }

  /** Appends to the ring and publishes on `.out`. */
  consoleWrite(text: string): void {
    if (text === '') return;
    this.ring.append(text);
    if (!this.nc.isClosed()) this.nc.publish(subjects.console(this.domid, 'out'), text);
  }

  /** SCHEDOP_shutdown for this domain; resolves `halted`. */
  async shutdown(reason: GuestShutdownReason): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    try {
      await this.hv!.shutdown(reason);
    } finally {
      this.resolveHalted(reason);
    }
  }

  /**
   * netfront for every vif. Ring proofs are signed with the domain's user seed (its .creds file); a bus
   * without auth has no identities, and the published NOAUTH seed stands in (netback accepts it then).
   */
  private async startNetfronts(): Promise<Netfronts> {
    const creds = this.cfg.natsCredsFile;
    const seed = creds ? seedOfCreds(readFileSync(creds, 'utf8')) : NOAUTH_RING_SEED;
    const logger = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
      this.log[level](fields ?? {}, msg);
    return Netfronts.start(
      this.home,
      {
        store: this.xs!,
        evtchn: this.hv!,
        domid: this.domid,
        grants: this.memory!.grants,
        seed,
        rxBuffers: this.opts.netRxBuffers,
      },
      logger,
    );
  }

  /** blkfront for every vbd, connected before the kernel boots; ring proofs signed as netfront signs them. */
  private async startBlkfront(): Promise<Blkfront> {
    const creds = this.cfg.natsCredsFile;
    this.evtchn = new EventChannels(this.nc, this.domid, this.hv!);
    return Blkfront.start({
      store: this.xs!,
      home: this.home,
      domid: this.domid,
      memory: this.memory!,
      evtchn: this.evtchn,
      seed: creds ? seedOfCreds(readFileSync(creds, 'utf8')) : NOAUTH_RING_SEED,
      logger: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
  }

  private api(): GuestApi {
    const abs = (p: string) => resolveXsPath(this.home, p);
    return {
      domid: this.domid,
      console: { write: (t) => this.consoleWrite(t) },
      xenstore: {
        read: (p) => this.xs!.read(abs(p)),
        write: (p, v) => this.xs!.write(abs(p), v),
        directory: (p) => this.xs!.directory(abs(p)),
      },
      memory: { usedKiB: () => this.memory?.allocatedKiB ?? 0 },
      shutdown: (r) => this.shutdown(r),
      uptime: () => (Date.now() - this.bootedAt) / 1000,
      net: this.net && { stacks: () => this.net!.stacks() },
      block: this.blk,
    };
  }

  private onInput(m: Msg): void {
    if (m.headers?.get(CONSOLE_OP_HEADER) === CONSOLE_OP_RING) {
      if (m.reply) m.respond(this.ring.contents());
      return;
    }
    if (m.headers?.has(CONSOLE_OP_HEADER)) {
      const h = natsHeaders();
      h.set(CONSOLE_OP_HEADER, 'EINVAL');
      if (m.reply) m.respond(new Uint8Array(), { headers: h });
      return;
    }
    for (const line of inputLines(m.string())) void this.kernel?.input(line);
  }

  private async onShutdownRequest(): Promise<void> {
    const path = `${this.home}/control/shutdown`;
    const value = await this.xs!.tryRead(path);
    if (!value) return;
    const reason = SHUTDOWN_REQUESTS[value];
    if (!reason) {
      this.log.warn({ value }, 'ignoring shutdown request');
      return;
    }
    if (this.shuttingDown) return;
    this.log.info({ reason }, 'shutdown requested by the toolstack');
    await this.xs!.write(path, '');
    await this.shutdown(reason);
  }
}
