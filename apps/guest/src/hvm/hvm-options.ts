// How a guest service learns that its domain is HVM: the toolstack passes the domain's xl.cfg (with the
// command line's key=value overrides appended as lines, as xl applies them) in DOMINION_XLCFG; type = "hvm"
// makes the kernel a QEMU process. The device model's knobs come from the environment too.
import { parseDomainConfigText, type DomainConfig } from '@dominion/xlcfg';
import { GuestError } from '../errors.js';
import { PROBE_TIMEOUT_MS } from './accel-probe.js';
import type { Accel } from './qemu-args.js';

export interface HvmOptions {
  /** The parsed xl.cfg; `config.hvm` is set (type = "hvm"). */
  config: DomainConfig & { hvm: NonNullable<DomainConfig['hvm']> };
  /** DOMINION_QEMU (default qemu-system-x86_64 on PATH). */
  qemu: string;
  /** DOMINION_HVM_ACCEL=kvm|tcg skips the probe; otherwise probed once per host. */
  accel?: Accel;
  /** DOMINION_HVM_ACCEL_CACHE: the probe's answer (default <state dir>/../hvm-accel.json, shared by guests). */
  accelCache?: string;
  probeTimeoutMs: number;
  /** Seconds QEMU's NBD client waits for a restarting block driver domain before failing I/O. */
  reconnectDelayS: number;
  /** How long to wait for each backend to publish its NBD export / datagram port (ms). */
  deviceWaitMs: number;
  /** How often the domain's paused/shut-down state is read from the hypervisor (ms). */
  statePollMs: number;
}

export const HVM_RECONNECT_DELAY_S = 60;

type Env = Record<string, string | undefined>;

/** undefined for a PV domain (no DOMINION_XLCFG, or a type other than hvm). */
export function hvmOptionsFromEnv(env: Env): HvmOptions | undefined {
  const text = env.DOMINION_XLCFG;
  if (!text) return undefined;
  let config: DomainConfig;
  try {
    config = parseDomainConfigText(text, { source: 'DOMINION_XLCFG' }).config;
  } catch (e) {
    throw new GuestError('EINVAL', (e as Error).message);
  }
  if (config.type !== 'hvm' || !config.hvm) return undefined;
  const accel = env.DOMINION_HVM_ACCEL || undefined;
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg')
    throw new GuestError('EINVAL', `DOMINION_HVM_ACCEL=${JSON.stringify(accel)}: expected kvm or tcg (unset: probe)`);
  return {
    config: config as HvmOptions['config'],
    qemu: env.DOMINION_QEMU || 'qemu-system-x86_64',
    accel,
    accelCache: env.DOMINION_HVM_ACCEL_CACHE || undefined,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    reconnectDelayS: HVM_RECONNECT_DELAY_S,
    deviceWaitMs: 20_000,
    statePollMs: 200,
  };
}
