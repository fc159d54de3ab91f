// dom0's toolstack API (the libxl of Dominion) on `xen.toolstack.<caller>.<verb>`, for the control domain
// only: create a domain from an xl.cfg and start its guest process, shut it down or reboot it through
// control/shutdown, destroy it, list what it runs (with each guest's pid), and apply the config's on_*
// action when a domain stops. What it created is recorded under <stateDir>/toolstack, so that a dom0 that
// was killed and started again adopts the guests still alive in the hypervisor. Driver domains
// (driver_domain=1, kernel builtin:blkback or builtin:netback) are domains like the others whose process is
// apps/blkback or apps/netback; a guest's vbds and vifs name them with backend=, and when one comes back
// under a new domid its devices move to it (DeviceManager). A service started outside dom0 (compose) gets
// its domain through the bootstrap exchange on `xen.bootstrap` (a config and one-time secret registered
// with `bootstrap-issue`). The layout and decisions are in
// @dominion/toolstack; this is the wiring to the hypervisor, xenstored and the domains' processes.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ShutdownReason } from '@dominion/abi';
import { BusError, busServe, errnoOf, subjects, type ServeContext } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import {
  DOMAIN_CONFIG,
  LOGGER,
  NATS_CONNECTION,
  type DomainConfig as Dom0Config,
  type Logger,
} from '@dominion/runtime';
import {
  controlShutdownPath,
  createDomainArgs,
  DEFAULT_KERNEL,
  DEVICE_REMOVE_TIMEOUT_MS,
  deviceBackendRefs,
  domainHomeWrites,
  domainTeardownPaths,
  findDevice,
  guestReadyPath,
  lifecycleDecision,
  nextVifDevid,
  preserveDomainOps,
  writeOps,
  type ToolstackDevice,
} from '@dominion/toolstack';
import { parseBootstrapRequest, type BootstrapReply } from '@dominion/identity';
import { parseDiskSpec, parseDomainConfigText, parseVifSpec, XlCfgError, type DomainConfig } from '@dominion/xlcfg';
import { BootstrapConfigs, checkBootstrapName } from './bootstrap-configs.js';
import { serveBootstrap } from './bootstrap-exchange.js';
import { DeviceManager } from './device-manager.js';
import { Dom0Xs } from './dom0-xs.js';
import { DomainRecords, type DomainRecord } from './domain-records.js';
import { AdoptedGuestProcess, GuestProcess, isGuestProcess, type GuestRunner } from './guest-process.js';
import { XenstoredService } from './xenstored.service.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built domU; DOMINION_GUEST_MAIN overrides it (another build, a test). */
const guestMain = (): string => process.env.DOMINION_GUEST_MAIN || join(repoRoot, 'apps', 'guest', 'dist', 'main.js');

/**
 * The driver-domain "kernels": the service a driver domain runs instead of apps/guest, each overridable by
 * its environment variable (DOMINION_BLKBACK_MAIN, DOMINION_NETBACK_MAIN, DOMINION_ZFS_MAIN).
 */
const DRIVER_KERNELS: Record<string, { app: string; env: string }> = {
  'builtin:blkback': { app: 'blkback', env: 'DOMINION_BLKBACK_MAIN' },
  'builtin:netback': { app: 'netback', env: 'DOMINION_NETBACK_MAIN' },
  'builtin:zfs': { app: 'zfs', env: 'DOMINION_ZFS_MAIN' },
};

function domainMain(kernel: string): string {
  const k = DRIVER_KERNELS[kernel];
  if (!k) return guestMain();
  return process.env[k.env] || join(repoRoot, 'apps', k.app, 'dist', 'main.js');
}

const READY_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

export interface CreateRequest {
  config: string;
  source: string;
  overrides?: string[];
  paused?: boolean;
}

interface Guest {
  domid: number;
  name: string;
  uuid: string;
  config: DomainConfig;
  request: CreateRequest;
  process?: GuestRunner;
  credsFile?: string;
  /** Set once the on_* action for its stop was chosen: it is applied once. */
  settled?: Promise<void>;
  /** Set once teardown began: the process's exit is then expected. */
  gone?: Promise<void>;
  /** on_*=preserve kept it, shut down, for inspection until `xl destroy`. */
  preserved?: boolean;
  devices: ToolstackDevice[];
  /** Its config's type (libxl writes a vbd's `protocol` for PV). */
  type: DomainConfig['type'];
  /** Created by the bootstrap exchange: its service runs elsewhere (compose), not as dom0's child. */
  bootstrapped?: boolean;
}

/** One domain in the toolstack's `list` reply. */
export interface ToolstackDomain {
  domid: number;
  name: string;
  uuid: string;
  /** The guest process, while it runs. */
  pid?: number;
  preserved: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isErrno = (e: unknown, kind: string): boolean => errnoOf(e) === kind;

function createRequest(body: unknown): CreateRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.config !== 'string') throw new BusError('EINVAL', 'toolstack create: "config" (xl.cfg text) is missing');
  if (typeof b.source !== 'string' || b.source === '')
    throw new BusError('EINVAL', 'toolstack create: "source" (the config file name) is missing');
  if (b.overrides !== undefined && !(Array.isArray(b.overrides) && b.overrides.every((o) => typeof o === 'string')))
    throw new BusError('EINVAL', 'toolstack create: "overrides" must be a list of key=value strings');
  if (b.paused !== undefined && typeof b.paused !== 'boolean')
    throw new BusError('EINVAL', 'toolstack create: "paused" must be a boolean');
  return { config: b.config, source: b.source, overrides: b.overrides, paused: b.paused };
}

function shutdownRequest(body: unknown): { domid: number; reason: 'poweroff' | 'reboot'; fallback: boolean } {
  const domid = domidOf('shutdown', body);
  const b = body as { reason?: unknown; fallback?: unknown };
  const reason = b.reason ?? 'poweroff';
  if (reason !== 'poweroff' && reason !== 'reboot')
    throw new BusError('EINVAL', `toolstack shutdown: reason ${JSON.stringify(reason)} is not poweroff or reboot`);
  if (b.fallback !== undefined && typeof b.fallback !== 'boolean')
    throw new BusError('EINVAL', 'toolstack shutdown: "fallback" must be a boolean');
  return { domid, reason, fallback: b.fallback === true };
}

function stringsOf(verb: string, body: unknown, key: string, min: number): string[] {
  const v = (body as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(v) || v.length < min || !v.every((x) => typeof x === 'string'))
    throw new BusError('EINVAL', `toolstack ${verb}: "${key}" must be a list of at least ${min} strings`);
  return v;
}

function detachRequest(
  verb: string,
  body: unknown,
): { domid: number; device: string; force: boolean; timeoutMs: number } {
  const domid = domidOf(verb, body);
  const b = body as { device?: unknown; force?: unknown; timeoutMs?: unknown };
  if (typeof b.device !== 'string' || b.device === '')
    throw new BusError('EINVAL', `toolstack ${verb}: "device" (a devid, vdev or mac) is missing`);
  if (b.force !== undefined && typeof b.force !== 'boolean')
    throw new BusError('EINVAL', `toolstack ${verb}: "force" must be a boolean`);
  const t = b.timeoutMs ?? DEVICE_REMOVE_TIMEOUT_MS;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 60_000)
    throw new BusError('EINVAL', `toolstack ${verb}: "timeoutMs" must be 0..60000`);
  return { domid, device: b.device, force: b.force === true, timeoutMs: t };
}

function domidOf(verb: string, body: unknown): number {
  const d = (body as { domid?: unknown } | null)?.domid;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
    throw new BusError('EINVAL', `toolstack ${verb}: "domid" must be a domain id`);
  return d;
}

@Injectable()
export class ToolstackService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly hv: HypervisorClient;
  private readonly guests = new Map<number, Guest>();
  private readonly subs: Subscription[] = [];
  private readonly records: DomainRecords;
  private readonly bootstrapConfigs: BootstrapConfigs;
  private xsSession?: Dom0Xs;
  private stopping = false;

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: Dom0Config,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly xenstored: XenstoredService,
  ) {
    this.hv = new HypervisorClient(nc, 0, { timeoutMs: 10_000 });
    this.records = new DomainRecords(join(cfg.stateDir, 'toolstack'));
    this.bootstrapConfigs = new BootstrapConfigs(join(cfg.stateDir, 'bootstrap'));
    this.devices = new DeviceManager(
      () => this.xs,
      this.hv,
      () => this.guests.values(),
      (g) => this.saveRecord(g as Guest),
      log,
    );
  }

  private readonly devices: DeviceManager;

  async onApplicationBootstrap(): Promise<void> {
    // The guests an earlier dom0 left running are ours again before the API answers about them.
    await this.adoptAll();
    const verbs: Record<string, (body: unknown) => Promise<unknown>> = {
      create: (b) => this.create(createRequest(b)),
      destroy: (b) => this.destroy(domidOf('destroy', b)),
      shutdown: (b) => this.shutdown(shutdownRequest(b)),
      list: () => Promise.resolve({ domains: this.list() }),
      'block-attach': (b) => this.blockAttach(domidOf('block-attach', b), stringsOf('block-attach', b, 'spec', 1)),
      'block-detach': (b) => this.detach('vbd', detachRequest('block-detach', b)),
      'block-list': (b) => this.devices.blockList(domidOf('block-list', b)).then((rows) => ({ rows })),
      'network-attach': (b) =>
        this.networkAttach(domidOf('network-attach', b), stringsOf('network-attach', b, 'spec', 0)),
      'network-detach': (b) => this.detach('vif', detachRequest('network-detach', b)),
      'network-list': (b) => this.devices.networkList(domidOf('network-list', b)).then((rows) => ({ rows })),
      'bootstrap-issue': (b) => this.bootstrapIssue(createRequest(b)),
    };
    for (const [verb, fn] of Object.entries(verbs)) {
      this.subs.push(
        busServe(
          this.nc,
          subjects.toolstackAny(verb),
          (body, ctx: ServeContext) => {
            if (ctx.caller !== 0)
              throw new BusError('EPERM', `${ctx.subject}: domain ${ctx.caller} is not the control domain`);
            return fn(body);
          },
          { onInternalError: (e, s) => this.log.warn({ err: e }, `toolstack: ${s} failed`) },
        ),
      );
    }
    this.subs.push(serveBootstrap(this.nc, (b) => this.bootstrapExchange(b), this.log));
  }

  async onModuleDestroy(): Promise<void> {
    // Guests stopped by dom0's own shutdown have not crashed: their exits are not handled. An orderly stop
    // of dom0 stops its guests (a killed dom0 leaves them running, to be adopted when it is back).
    this.stopping = true;
    for (const s of this.subs) s.unsubscribe();
    await Promise.all([...this.guests.values()].map((g) => g.process?.stop() ?? Promise.resolve()));
    this.xsSession?.close();
  }

  private get xs(): Dom0Xs {
    this.xsSession ??= new Dom0Xs(this.xenstored.xenstored);
    return this.xsSession;
  }

  list(): ToolstackDomain[] {
    return [...this.guests.values()]
      .sort((a, b) => a.domid - b.domid)
      .map((g) => ({
        domid: g.domid,
        name: g.name,
        uuid: g.uuid,
        ...(g.process?.running && g.process.pid !== undefined && { pid: g.process.pid }),
        preserved: g.preserved === true,
      }));
  }

  private parse(req: CreateRequest): { config: DomainConfig; warnings: string[] } {
    try {
      return parseDomainConfigText(req.config, { source: req.source, overrides: req.overrides });
    } catch (e) {
      if (!(e instanceof XlCfgError)) throw e;
      throw new BusError('EINVAL', e.hint ? `${e.message}\n${e.hint}` : e.message);
    }
  }

  /**
   * `restart`: the domain this one restarts. As xl restarts from the configuration libxl kept for the
   * domain, the new one gets its uuid and the devices it had at the end (hot-attached ones included,
   * detached ones not, a vif's drawn MAC kept), each resolved again to its driver domain by name.
   */
  async create(
    req: CreateRequest,
    restart?: { uuid: string; devices: readonly ToolstackDevice[] },
    /** The bootstrap exchange: the service's own user key; its process is not dom0's to start. */
    bootstrap?: { userKey: string },
  ): Promise<{ domid: number; warnings: string[]; jwt?: string; inboxPrefix?: string }> {
    const { config, warnings } = this.parse(req);
    this.checkKernel(config, req.source);
    // backends resolved before anything is made: a device naming no live driver domain creates nothing
    const devices = restart ? await this.devices.resolveAgain(restart.devices) : await this.devices.fromConfig(config);
    const uuid = restart?.uuid ?? config.uuid ?? randomUUID();
    const made = (await this.hv.call('createdomain', {
      ...createDomainArgs(config, uuid),
      ...(bootstrap && { user_key: bootstrap.userKey }),
    })) as {
      domid: number;
      credentials?: { creds?: string; jwt?: string; inbox_prefix: string };
    };
    const g: Guest = {
      domid: made.domid,
      name: config.name,
      uuid,
      config,
      request: req,
      devices,
      type: config.type,
      ...(bootstrap && { bootstrapped: true }),
    };
    this.guests.set(g.domid, g);
    try {
      await this.xs.transaction([
        ...writeOps(
          domainHomeWrites({
            domid: g.domid,
            name: config.name,
            uuid,
            type: config.type,
            targetKiB: config.memory * 1024,
            staticMaxKiB: config.maxmem * 1024,
            vcpus: config.vcpus,
            maxvcpus: config.maxvcpus,
            driverDomain: config.driverDomain,
            startTimeMs: Date.now(),
          }),
        ),
        ...this.devices.creationOps(g),
      ]);
      await this.xenstored.xenstored.introduceDomain(g.domid);
      // A driver domain back under a new domid: its devices are written under it before it starts watching.
      if (config.driverDomain) await this.devices.moveToBackend(g.name, g.domid);
      if (bootstrap) {
        // the service comes up only once it has this answer: waiting for it happens after the reply
        this.saveRecord(g);
        void this.comeUp(g, req.paused === true);
        return { domid: g.domid, warnings, jwt: made.credentials?.jwt, inboxPrefix: made.credentials?.inbox_prefix };
      }
      this.launch(
        g,
        made.credentials?.creds
          ? { creds: made.credentials.creds, inbox_prefix: made.credentials.inbox_prefix }
          : undefined,
      );
      this.saveRecord(g);
      await this.waitReady(g);
      if (!req.paused) await this.hv.unpauseDomain(g.domid);
      this.log.info({ domid: g.domid }, `toolstack: created ${config.name} (domain ${g.domid})`);
      return { domid: g.domid, warnings };
    } catch (e) {
      await this.teardown(g).catch((t: unknown) =>
        this.log.warn({ err: t }, `toolstack: cleaning up domain ${g.domid} failed`),
      );
      throw e;
    }
  }

  private checkKernel(config: DomainConfig, source: string): void {
    const kernel = config.kernel ?? DEFAULT_KERNEL;
    if (DRIVER_KERNELS[kernel] && !config.driverDomain)
      throw new BusError('EINVAL', `${source}: kernel "${kernel}" runs a driver domain: it needs driver_domain = 1`);
  }

  /** A bootstrapped domain's service reports in (bounded, as for a launched one); then it is unpaused. */
  private async comeUp(g: Guest, paused: boolean): Promise<void> {
    try {
      await this.waitReady(g);
      if (!paused) await this.hv.unpauseDomain(g.domid);
      this.log.info({ domid: g.domid }, `toolstack: bootstrapped ${g.name} (domain ${g.domid}) is up`);
    } catch (e) {
      this.log.warn({ err: e, domid: g.domid }, `toolstack: bootstrapped ${g.name} did not come up; destroying it`);
      await this.teardown(g).catch(() => undefined);
    }
  }

  /**
   * `bootstrap-issue` (xl bootstrap-issue): registers the config for its name and returns a new one-time
   * secret; an earlier secret for the name no longer works. The config is checked as `create` would.
   */
  private async bootstrapIssue(req: CreateRequest): Promise<{ name: string; secret: string }> {
    if (req.overrides?.length || req.paused)
      throw new BusError('EINVAL', 'toolstack bootstrap-issue: no overrides or paused: the config file alone');
    const { config } = this.parse(req);
    this.checkKernel(config, req.source);
    checkBootstrapName(config.name);
    const secret = await this.bootstrapConfigs.issue(config.name, req.config);
    this.log.info(`toolstack: bootstrap secret issued for ${config.name}`);
    return { name: config.name, secret };
  }

  /**
   * `xen.bootstrap`: a service presents name, one-time secret and its own user key. Everything that can be
   * checked is checked before the secret is redeemed (a creation that fails afterwards burns it): the
   * config registered for the name, its kernel, that no domain has the name, that its devices' driver
   * domains exist. Then the domain is created with the key; the answer carries the JWT the hypervisor
   * issued for it.
   */
  private async bootstrapExchange(body: unknown): Promise<BootstrapReply> {
    const b = parseBootstrapRequest(body);
    const { text, source } = this.bootstrapConfigs.config(b.name);
    const req: CreateRequest = { config: text, source };
    const { config } = this.parse(req);
    if (config.name !== b.name)
      throw new BusError('EINVAL', `bootstrap: ${source} names domain ${config.name}, not ${b.name}`);
    this.checkKernel(config, source);
    const taken = (await this.hv.listDomains()).find((d) => d.name === config.name);
    if (taken) throw new BusError('EEXIST', `bootstrap: domain ${config.name} exists already (domain ${taken.domid})`);
    await this.devices.fromConfig(config);
    await this.bootstrapConfigs.redeem(b.name, b.secret);
    const made = await this.create(req, undefined, { userKey: b.user_key });
    this.log.info({ domid: made.domid }, `toolstack: ${b.name} bootstrapped as domain ${made.domid}`);
    return { domid: made.domid, jwt: made.jwt ?? '', inbox_prefix: made.inboxPrefix ?? '' };
  }

  private saveRecord(g: Guest): void {
    const { config, source, overrides } = g.request;
    const r: DomainRecord = {
      domid: g.domid,
      name: g.name,
      uuid: g.uuid,
      request: { config, source, ...(overrides && { overrides }) },
      ...(g.process?.pid !== undefined && { pid: g.process.pid }),
      ...(g.credsFile && { credsFile: g.credsFile }),
      ...(g.preserved && { preserved: true }),
      ...(g.bootstrapped && { bootstrapped: true }),
      ...(g.devices.length > 0 && { devices: g.devices }),
    };
    this.records.save(r);
  }

  private launch(g: Guest, credentials?: { creds: string; inbox_prefix: string }): void {
    const kernel = g.config.kernel ?? DEFAULT_KERNEL;
    const env: Record<string, string> = {
      DOMINION_DOMAIN_NAME: g.name,
      DOMINION_KERNEL: kernel,
      DOMINION_NATS_URL: this.cfg.natsUrl,
      DOMINION_NATS_CREDS: '',
      DOMINION_NATS_INBOX_PREFIX: '',
      ...this.guestIdentity(g),
      DOMINION_HEALTH_PORT: '',
    };
    // Disk images outlive a blkback's domid: one directory for every instance (unless dom0's env names one).
    if (kernel === 'builtin:blkback' && !process.env.DOMINION_BLKBACK_IMAGE_DIR)
      env.DOMINION_BLKBACK_IMAGE_DIR = join(this.cfg.stateDir, 'images');
    // Pools outlive a ZFS domain's domid too; DOMINION_ZFS_POOLS comes from dom0's own environment.
    if (kernel === 'builtin:zfs' && !process.env.DOMINION_ZFS_DIR)
      env.DOMINION_ZFS_DIR = join(this.cfg.stateDir, 'zfs');
    if (credentials) {
      const dir = join(this.cfg.stateDir, 'creds');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      g.credsFile = join(dir, `domain-${g.domid}.creds`);
      writeFileSync(g.credsFile, credentials.creds, { mode: 0o600 });
      env.DOMINION_NATS_CREDS = g.credsFile;
      env.DOMINION_NATS_INBOX_PREFIX = credentials.inbox_prefix;
    }
    this.watch(g, new GuestProcess({ main: domainMain(kernel), env, logFile: this.logFile(g) }));
  }

  /** What tells this system's guest process of a domain apart from any other process. */
  private guestIdentity(g: Pick<Guest, 'domid' | 'name'>): { DOMINION_DOMID: string; DOMINION_STATE_DIR: string } {
    return {
      DOMINION_DOMID: String(g.domid),
      DOMINION_STATE_DIR: join(this.cfg.stateDir, 'guests', `${g.name}.${g.domid}`),
    };
  }

  private watch(g: Guest, proc: GuestRunner): void {
    g.process = proc;
    void proc.exited.then((r) => this.onGuestExit(g, r.code, r.signal));
  }

  private logFile(g: Guest): string {
    return join(this.cfg.stateDir, 'logs', `${g.name}.log`);
  }

  /**
   * Bounded: a guest writes control/feature-poweroff once it watches control/shutdown; a driver domain (no
   * PV control interface) is up once its first heartbeat reached the hypervisor: it is on the bus with its
   * credentials, and the backend dirs it finds when it starts watching are already there.
   */
  private async ready(g: Guest): Promise<boolean> {
    if (g.config.driverDomain && DRIVER_KERNELS[g.config.kernel ?? DEFAULT_KERNEL])
      return (await this.hv.getDomainInfo(g.domid)).last_heartbeat !== undefined;
    return (await this.xs.read(guestReadyPath(g.domid))) === '1';
  }

  private async waitReady(g: Guest): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (await this.ready(g)) return;
      if (!g.bootstrapped && !g.process?.running)
        throw new BusError(
          'EIO',
          `domain ${g.domid} (${g.name}): the guest exited before it came up; see ${this.logFile(g)}`,
        );
      if (g.gone) throw new BusError('ESRCH', `domain ${g.domid} (${g.name}) was destroyed before it came up`);
      if (Date.now() > deadline)
        throw new BusError(
          'ETIMEDOUT',
          `domain ${g.domid} (${g.name}): the guest did not come up within ${READY_TIMEOUT_MS / 1000} s (no control/feature-poweroff); see ${this.logFile(g)}`,
        );
      await sleep(POLL_MS);
    }
  }

  /** A guest process that ends while its domain is not shut down has crashed. */
  private async onGuestExit(g: Guest, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (g.gone || this.stopping) return;
    try {
      let info = await this.hv.getDomainInfo(g.domid);
      if (!info.shutdown) {
        this.log.warn({ domid: g.domid, code, signal }, `toolstack: the guest of domain ${g.domid} died: a crash`);
        await this.hv.reportExit({ domid: g.domid, ...(code !== null && { code }), ...(signal && { signal }) });
        info = await this.hv.getDomainInfo(g.domid);
      }
      await this.settle(g, info.shutdown_reason ?? 'crash');
    } catch (e) {
      if (isErrno(e, 'ESRCH')) await this.teardown(g);
      else this.log.warn({ err: e }, `toolstack: handling the exit of domain ${g.domid} failed`);
    }
  }

  /** The config's on_* action for a domain that stopped (xl's handle_domain_death), taken once. */
  private settle(g: Guest, reason: ShutdownReason): Promise<void> {
    g.settled ??= this.applyAction(g, reason);
    return g.settled;
  }

  private async applyAction(g: Guest, reason: ShutdownReason): Promise<void> {
    const d = lifecycleDecision(reason, g.name, g.config, Date.now());
    this.log.info(
      { domid: g.domid },
      `toolstack: domain ${g.domid} (${g.name}) shut down (${reason}): ${d.action ?? 'none'}`,
    );
    const restart = { uuid: g.uuid, devices: [...g.devices] };
    const name = g.name;
    if (d.preserveAs !== undefined) {
      // rename-restart (xl's preserve_domain): kept renamed, then started again; a rename that fails
      // leaves the old domain in place, not restarted, as xl does
      if (!(await this.preserveRenamed(g, d.preserveAs))) return;
    } else if (!d.destroy) {
      // preserve (and soft-reset, which needs the domain's memory kept across a reset): kept as it is, shut
      // down, for inspection; `xl destroy` removes it.
      if (d.action !== undefined && d.action !== 'preserve')
        this.log.warn(
          { domid: g.domid },
          `toolstack: on_${reason}=${d.action} is not supported: domain kept as with preserve`,
        );
      if (d.action !== undefined) {
        g.preserved = true;
        this.saveRecord(g);
      }
      return;
    } else await this.teardown(g);
    if (d.restart && g.bootstrapped) {
      // its service is not dom0's to start: it bootstraps again with a new secret
      this.log.warn({ domid: g.domid }, `toolstack: ${name} was bootstrapped: not restarted by dom0`);
      return;
    }
    if (d.restart) {
      this.log.info({ domid: g.domid }, `toolstack: restarting ${name}`);
      await this.create({ ...g.request, paused: false }, restart).catch((e: unknown) =>
        this.log.warn({ err: e }, `toolstack: restarting ${name} failed`),
      );
    }
  }

  /**
   * libxl_domain_preserve: the hypervisor's name first (it refuses a clash with EEXIST: then nothing has
   * changed), a new uuid, then the XenStore side in one transaction, then the record. False when the
   * domain could not be renamed: it is kept as with preserve, under its own name.
   */
  private async preserveRenamed(g: Guest, newName: string): Promise<boolean> {
    const oldName = g.name;
    const oldUuid = g.uuid;
    const newUuid = randomUUID();
    try {
      await this.hv.setDomainName(g.domid, newName);
    } catch (e) {
      this.log.warn(
        { domid: g.domid, err: e },
        `toolstack: preserving domain ${g.domid} (${oldName}) as ${newName} failed: kept as it is, not restarted`,
      );
      g.preserved = true;
      this.saveRecord(g);
      return false;
    }
    await this.hv.setDomainHandle(g.domid, newUuid);
    await this.xs.transaction(preserveDomainOps({ domid: g.domid, oldUuid, newUuid, newName }));
    g.name = newName;
    g.uuid = newUuid;
    g.preserved = true;
    this.saveRecord(g);
    this.log.info({ domid: g.domid }, `toolstack: preserved domain ${g.domid} (${oldName}) as ${newName}`);
    return true;
  }

  /** Everything a domain has, undone once: its process, the hypervisor's domain, its XenStore side. */
  private teardown(g: Guest): Promise<void> {
    g.gone ??= (async () => {
      await g.process?.stop();
      try {
        await this.hv.destroyDomain(g.domid);
      } catch (e) {
        if (!isErrno(e, 'ESRCH')) throw e;
      } finally {
        this.guests.delete(g.domid);
        if (g.credsFile) rmSync(g.credsFile, { force: true });
        this.records.remove(g.domid);
      }
      await this.releaseStore(g.domid, g.uuid, g.devices);
    })();
    return g.gone;
  }

  /** Its home, /vm, /libxl, and its devices' backend dirs (the driver domain unplugs them). */
  private async releaseStore(domid: number, uuid: string, devices: readonly ToolstackDevice[] = []): Promise<void> {
    const xenstored = this.xenstored.xenstored;
    if (xenstored.isIntroduced(domid)) await xenstored.releaseDomain(domid).catch(() => undefined);
    for (const p of domainTeardownPaths(domid, uuid, deviceBackendRefs(domid, devices))) await this.xs.rm(p);
  }

  /**
   * A restarted dom0 takes back what the previous one created: a domain still in the hypervisor is adopted
   * (its guest process watched by pid, its on_* actions applied again); one that is gone is cleaned away.
   */
  private async adoptAll(): Promise<void> {
    const records = this.records.load((file, why) => this.log.warn(`toolstack: skipping ${file}: ${why}`));
    // Stops are handled once every record is back: a driver domain restarted now finds all its devices.
    const later: (() => void)[] = [];
    for (const r of records) {
      try {
        const then = await this.adopt(r);
        if (then) later.push(then);
      } catch (e) {
        this.log.warn({ err: e, domid: r.domid }, `toolstack: adopting domain ${r.domid} (${r.name}) failed`);
      }
    }
    for (const f of later) f();
  }

  private async adopt(r: DomainRecord): Promise<(() => void) | undefined> {
    let info;
    try {
      info = await this.hv.getDomainInfo(r.domid);
    } catch (e) {
      if (!isErrno(e, 'ESRCH')) throw e;
      this.log.info({ domid: r.domid }, `toolstack: domain ${r.domid} (${r.name}) is gone; cleaning up`);
      this.records.remove(r.domid);
      if (r.credsFile) rmSync(r.credsFile, { force: true });
      await this.releaseStore(r.domid, r.uuid, r.devices);
      return undefined;
    }
    const request: CreateRequest = { ...r.request };
    const config = this.parse(request).config;
    const g: Guest = {
      domid: r.domid,
      name: info.name,
      uuid: r.uuid,
      config,
      request,
      devices: r.devices ?? [],
      type: config.type,
      ...(r.credsFile && { credsFile: r.credsFile }),
      ...(r.preserved && { preserved: true }),
      ...(r.bootstrapped && { bootstrapped: true }),
    };
    this.guests.set(g.domid, g);
    if (g.bootstrapped) {
      // its service runs elsewhere (no process of ours to watch): the domain is ours again
      this.log.info({ domid: g.domid }, `toolstack: adopted bootstrapped ${g.name} (domain ${g.domid})`);
      if (info.shutdown && !g.preserved) return () => void this.settle(g, info.shutdown_reason ?? 'crash');
      return undefined;
    }
    if (r.pid !== undefined && isGuestProcess(r.pid, this.guestIdentity(g))) {
      this.watch(g, new AdoptedGuestProcess(r.pid));
      this.log.info({ domid: g.domid, pid: r.pid }, `toolstack: adopted ${g.name} (domain ${g.domid}, pid ${r.pid})`);
      if (info.shutdown && !g.preserved) return () => void this.settle(g, info.shutdown_reason ?? 'crash');
    } else if (!g.preserved) {
      // Its process ended while dom0 was away.
      return () => void this.onGuestExit(g, null, null);
    }
    return undefined;
  }

  async destroy(domid: number): Promise<Record<string, never>> {
    const g = this.guests.get(domid);
    if (g) {
      await this.teardown(g);
      return {};
    }
    // A domain this toolstack did not start (made by a bare createdomain): the hypervisor decides.
    const info = await this.hv.getDomainInfo(domid);
    await this.hv.destroyDomain(domid);
    await this.releaseStore(domid, info.uuid);
    return {};
  }

  /**
   * xl shutdown/reboot: control/shutdown, then wait (bounded) for the guest to shut down and apply the
   * on_* action before replying. A domain whose guest has no PV control interface (no
   * control/feature-poweroff) is refused with EOPNOTSUPP unless `fallback` (xl's -F) asks for the
   * "ACPI button": the hypervisor shuts it down at once.
   */
  async shutdown(req: { domid: number; reason: 'poweroff' | 'reboot'; fallback: boolean }): Promise<{
    reason: ShutdownReason;
    /** The fallback was taken: the "ACPI button" instead of control/shutdown. */
    button?: true;
  }> {
    const { domid, reason } = req;
    const before = await this.hv.getDomainInfo(domid); // ESRCH as the hypervisor words it
    if (before.shutdown) return { reason: before.shutdown_reason ?? reason };
    let button: true | undefined;
    if ((await this.xs.read(guestReadyPath(domid))) === '1') await this.xs.write(controlShutdownPath(domid), reason);
    else if (req.fallback) {
      await this.hv.shutdown(reason, domid);
      button = true;
    } else throw new BusError('EOPNOTSUPP', `domain ${domid}: PV control interface not available`);
    const g = this.guests.get(domid);
    const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
    for (;;) {
      let info;
      try {
        info = await this.hv.getDomainInfo(domid);
      } catch (e) {
        if (!isErrno(e, 'ESRCH')) throw e;
        // already gone: its exit was handled first; the reply waits for that (a restart included)
        await g?.settled;
        return { reason, ...(button && { button }) };
      }
      if (info.shutdown) {
        if (g) await this.settle(g, info.shutdown_reason ?? reason);
        return { reason: info.shutdown_reason ?? reason, ...(button && { button }) };
      }
      if (Date.now() > deadline)
        throw new BusError(
          'ETIMEDOUT',
          `domain ${domid}: did not shut down within ${SHUTDOWN_TIMEOUT_MS / 1000} s of control/shutdown=${reason}`,
        );
      await sleep(POLL_MS);
    }
  }

  /** A domain this toolstack runs (devices are attached only to those). */
  private managed(verb: string, domid: number): Guest {
    const g = this.guests.get(domid);
    if (!g) throw new BusError('ESRCH', `toolstack ${verb}: domain ${domid} is not a domain this toolstack created`);
    return g;
  }

  /** xl block-attach: the words of one disk spec (xl joins them), parsed as a command-line spec. */
  private async blockAttach(domid: number, words: string[]): Promise<{ devid: number; backend: string }> {
    const g = this.managed('block-attach', domid);
    let disk;
    try {
      disk = parseDiskSpec(words);
    } catch (e) {
      if (!(e instanceof XlCfgError)) throw e;
      throw new BusError('EINVAL', e.message);
    }
    const d = await this.devices.attach(g, { disk });
    return { devid: disk.devid, backend: d.backend };
  }

  /** xl network-attach: one key=value per word; an unknown key is an error (xl's strict parse). */
  private async networkAttach(
    domid: number,
    words: string[],
  ): Promise<{ devid: number; mac: string; backend: string }> {
    const g = this.managed('network-attach', domid);
    let vif;
    try {
      vif = parseVifSpec(words, { strict: true, devid: nextVifDevid(g.devices) }).vif;
    } catch (e) {
      if (!(e instanceof XlCfgError)) throw e;
      throw new BusError('EINVAL', e.message);
    }
    const d = await this.devices.attach(g, { vif });
    return { devid: vif.devid, mac: d.kind === 'vif' ? d.vif.mac : '', backend: d.backend };
  }

  private async detach(
    kind: 'vbd' | 'vif',
    req: { domid: number; device: string; force: boolean; timeoutMs: number },
  ): Promise<Record<string, never>> {
    const g = this.managed(kind === 'vbd' ? 'block-detach' : 'network-detach', req.domid);
    await this.devices.detach(g, findDevice(kind, g.devices, req.device, req.domid), req.force, req.timeoutMs);
    return {};
  }
}
