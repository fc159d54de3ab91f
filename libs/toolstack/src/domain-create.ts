// What libxl asks the hypervisor for when it creates a domain from an xl.cfg (libxl__domain_make and
// the build info's memory/vcpu/scheduler fields), and what a guest needs to be started with.
import type { CreateDomainArgs } from '@dominion/hypervisor';
import type { DomainConfig } from '@dominion/xlcfg';

/** A guest's kernel when the config names none. */
export const DEFAULT_KERNEL = 'builtin:minios';

/** MiB (xl.cfg) to the KiB of the hypercall. */
const kib = (mib: number): number => mib * 1024;

export function createDomainArgs(cfg: DomainConfig, uuid: string): CreateDomainArgs {
  return {
    name: cfg.name,
    uuid,
    type: cfg.type,
    target_memkb: kib(cfg.memory),
    max_memkb: kib(cfg.maxmem),
    vcpus: cfg.vcpus,
    weight: cfg.cpuWeight,
    cap: cfg.cap,
    driver_domain: cfg.driverDomain,
    max_event_channels: cfg.maxEventChannels,
  };
}

/** Where the guest signals that it is up: PV drivers write feature-poweroff once they watch control/shutdown. */
export const guestReadyPath = (domid: number): string => `/local/domain/${domid}/control/feature-poweroff`;

/** The node the toolstack writes to ask a guest to shut down (xl shutdown/reboot). */
export const controlShutdownPath = (domid: number): string => `/local/domain/${domid}/control/shutdown`;
