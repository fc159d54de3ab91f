// A switch port as a vif plugs into a bridge: who owns it, what it may claim as source (the vif's `mac`
// and `ip=` keys), which VLANs it belongs to (`vlan=`) and its credit limit (`rate=`).
import { parseIpv4, parseMac } from './addr.js';
import { SwitchError } from './errors.js';
import type { PortRate } from './rate-limiter.js';

export interface VlanMembership {
  vid: number;
  /** Egress untagged on this VLAN; otherwise the frame leaves with an 802.1Q tag. */
  untagged: boolean;
}

export interface PortConfig {
  name: string;
  /** Who plugged the port in (a frontend domain, an uplink): for listings and MAC-conflict messages. */
  owner: string;
  /** Anti-spoofing: the only source MAC accepted from this port, and claimed on the switch. */
  mac?: string;
  /** Anti-spoofing: the only source IPv4 addresses accepted in IPv4 and ARP frames from this port. */
  ips?: readonly string[];
  /** The VLAN for untagged frames (default 1, as a Linux bridge's default_pvid) and the tagged members. */
  vlan?: { pvid: number; members?: readonly VlanMembership[] };
  rate?: PortRate;
}

export interface PortSpec {
  name: string;
  owner: string;
  mac?: string;
  ips?: ReadonlySet<string>;
  pvid: number;
  /** vid -> egress untagged. */
  vlans: ReadonlyMap<number, boolean>;
  rate?: PortRate;
}

export const DEFAULT_PVID = 1;
const MAX_VID = 4094;

function checkVid(vid: number, where: string): void {
  if (!Number.isInteger(vid) || vid < 1 || vid > MAX_VID) {
    throw new SwitchError('EINVAL', `${where}: VLAN id ${vid} is outside 1..${MAX_VID}`);
  }
}

/** The checked, canonical form of a port's configuration. */
export function portSpec(cfg: PortConfig): PortSpec {
  if (cfg.name === '') throw new SwitchError('EINVAL', 'port name is empty');
  const where = `port ${cfg.name}`;
  const mac = cfg.mac === undefined ? undefined : parseMac(cfg.mac, `${where} mac`);
  const ips = cfg.ips === undefined ? undefined : new Set(cfg.ips.map((ip) => parseIpv4(ip, `${where} ip`)));
  const pvid = cfg.vlan?.pvid ?? DEFAULT_PVID;
  checkVid(pvid, where);
  const vlans = new Map<number, boolean>([[pvid, true]]);
  for (const m of cfg.vlan?.members ?? []) {
    checkVid(m.vid, where);
    if (m.vid !== pvid) vlans.set(m.vid, m.untagged);
  }
  return { name: cfg.name, owner: cfg.owner, mac, ips, pvid, vlans, rate: cfg.rate };
}
