// `xl list` as tools/xl/xl_info.c prints it (xen-facts §8): the header, then one row per domain
// `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f`, memory in MiB = KiB / 1024 (Dominion has no outstanding
// claims), name never truncated; and `xl list -l`, a JSON array of { domid, config }.
import { domainStateString, type DomainInfo } from '@dominion/hypervisor';
import type { DomainConfig } from '@dominion/xlcfg';
import { cFixed1, pad } from './c-format.js';

export const XL_LIST_HEADER = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';

export function xlListRow(d: DomainInfo): string {
  return `${pad(d.name, 40, true)} ${pad(d.domid, 5)} ${pad(Math.floor(d.current_memkb / 1024), 5)} ${pad(d.vcpu_online, 5)}     ${domainStateString(d)}  ${pad(cFixed1(d.cpu_time), 8)}`;
}

/** Header and rows, each line ending in a newline, domains in domid order (Domain-0 first). */
export function formatXlList(domains: readonly DomainInfo[]): string {
  const rows = [...domains].sort((a, b) => a.domid - b.domid).map(xlListRow);
  return [XL_LIST_HEADER, ...rows].map((l) => `${l}\n`).join('');
}

/**
 * The `config` of `xl list -l`, in libxl_domain_config's JSON names (c_info, b_info, disks, nics,
 * on_*), only for what Dominion's DomainConfig holds.
 */
export function libxlDomainConfigJson(d: DomainInfo, cfg?: DomainConfig): Record<string, unknown> {
  const c_info: Record<string, unknown> = { type: d.type, name: d.name, uuid: d.uuid };
  const b_info: Record<string, unknown> = {
    max_vcpus: cfg?.maxvcpus ?? d.vcpu_online,
    avail_vcpus: Array.from({ length: cfg?.vcpus ?? d.vcpu_online }, (_, i) => i),
    max_memkb: d.max_memkb,
    target_memkb: d.target_memkb,
    sched_params: { weight: d.weight, cap: d.cap },
    max_event_channels: d.max_event_channels,
  };
  if (cfg) {
    if (cfg.driverDomain) c_info.driver_domain = 'True';
    const pv: Record<string, unknown> = {};
    for (const k of ['kernel', 'ramdisk', 'cmdline', 'bootloader'] as const) if (cfg[k] !== undefined) pv[k] = cfg[k];
    if (Object.keys(pv).length) b_info.type = { pv };
  }
  const out: Record<string, unknown> = { c_info, b_info };
  if (cfg) {
    out.disks = cfg.disks.map((k) => ({
      pdev_path: k.target,
      vdev: k.vdev,
      format: k.format,
      readwrite: k.readwrite ? 1 : 0,
      is_cdrom: k.isCdrom ? 1 : 0,
    }));
    out.nics = cfg.vifs.map((v) => ({ devid: v.devid, mac: v.mac, bridge: v.bridge, script: v.script, mtu: v.mtu }));
    out.on_poweroff = cfg.onPoweroff;
    out.on_reboot = cfg.onReboot;
    out.on_watchdog = cfg.onWatchdog;
    out.on_crash = cfg.onCrash;
    out.on_soft_reset = cfg.onSoftReset;
  }
  return out;
}

/** `xl list -l`: yajl's beautified output (4-space indent) of [{ domid, config }]. */
export function formatXlListLong(domains: readonly { info: DomainInfo; config?: DomainConfig }[]): string {
  const arr = [...domains]
    .sort((a, b) => a.info.domid - b.info.domid)
    .map((d) => ({ domid: d.info.domid, config: libxlDomainConfigJson(d.info, d.config) }));
  return `${JSON.stringify(arr, null, 4)}\n`;
}
