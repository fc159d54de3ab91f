// A vif's settings from the keys the toolstack wrote in its backend dir (libxl_nic.c, xen-facts §3):
// `mac` (required, as Linux netback's xen_net_read_mac), `bridge` (default xenbr0), `ip` (anti-spoofing:
// addresses separated by blanks, as vif-common.sh iterates them), `rate` ("<bytes>,<usecs>"), `vlan`
// (xl-network-configuration's syntax), `vifname`, `mtu`. Each bad value is a XenbusError naming its path.
import { XenbusError, type XenbusKeyReader } from '@dominion/xenbus';
import { VIF_TOOLSTACK_BACKEND_KEYS as K } from '@dominion/netif';
import { parseIpv4, parseMac, type PortConfig } from '@dominion/switch';
import { parseVlan } from '@dominion/xlcfg';
import { DEFAULT_BRIDGE, IFNAME } from './bridges.js';
import { vifName, type VifIdentity } from './vif-port.js';

export interface VifConfig {
  bridge: string;
  mtu: number;
  port: PortConfig;
}

const RATE = /^([0-9]{1,15}),([0-9]{1,10})$/;

export async function readVifConfig(r: XenbusKeyReader, id: VifIdentity): Promise<VifConfig> {
  const mac = parseOr(r, K.MAC, await r.string(K.MAC), (v) => parseMac(v, 'mac'));
  const bridge = (await r.optString(K.BRIDGE)) || DEFAULT_BRIDGE;
  if (!IFNAME.test(bridge)) throw bad(r, K.BRIDGE, bridge, 'is not a bridge name');
  const vifname = await r.optString(K.VIFNAME);
  if (vifname !== undefined && !IFNAME.test(vifname)) throw bad(r, K.VIFNAME, vifname, 'is not an interface name');
  const mtu = (await r.optUint(K.MTU, { min: 68, max: 65535 })) ?? 1500;

  const ipText = await r.optString(K.IP);
  const ips =
    ipText === undefined
      ? undefined
      : ipText
          .trim()
          .split(/\s+/)
          .map((ip) => parseOr(r, K.IP, ip, (v) => parseIpv4(v, 'ip')));

  const rateText = await r.optString(K.RATE);
  let rate: PortConfig['rate'];
  if (rateText !== undefined) {
    const m = RATE.exec(rateText);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw bad(r, K.RATE, rateText, 'is not "<bytes>,<usecs>"');
    rate = { bytesPerInterval: Number(m[1]), intervalUsecs: Number(m[2]) };
  }

  const vlanText = await r.optString(K.VLAN);
  let vlan: PortConfig['vlan'];
  if (vlanText !== undefined) {
    const v = parseVlan(vlanText);
    if (typeof v === 'string') throw bad(r, K.VLAN, vlanText, `is not a vlan spec: ${v}`);
    vlan = { pvid: v.pvid, members: v.members };
  }

  const name = vifname ?? vifName(id);
  const port: PortConfig = { name, owner: `domain ${id.domid} vif ${id.devid}`, mac, ips, rate, vlan };
  return { bridge, mtu, port };
}

function bad(r: XenbusKeyReader, key: string, value: string, why: string): XenbusError {
  return new XenbusError('EINVAL', `${r.path(key)}: ${JSON.stringify(value)} ${why}`);
}

function parseOr<T>(r: XenbusKeyReader, key: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (e) {
    throw bad(r, key, value, (e as Error).message.replace(/^.*?: "[^"]*" /, ''));
  }
}
