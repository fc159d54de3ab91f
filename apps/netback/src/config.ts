// netback's settings from its environment (documented in README.md):
//   DOMINION_NETBACK_BRIDGES     comma-separated bridge names (default xenbr0)
//   DOMINION_NETBACK_UPLINKS     uplinks separated by blanks or `;`, each
//                                  <bridge>:dgram:<host>:<port>[,option...]  a UDP socket bound there
//                                  <bridge>:tap:<ifname>[,option...]         a TAP via a supervised socat
//                                with options remote=<host>:<port> (dgram only: the fixed peer), name=<port>,
//                                mac=<mac>, ip=<a.b.c.d> (repeatable), vlan=<xl vlan spec>, rate=<xl rate>,
//                                down (tap only: socat leaves the TAP down, for one to be moved into a netns)
//   DOMINION_NETBACK_MAX_QUEUES  multi-queue-max-queues published to frontends (default: CPUs, at most 8)
//   DOMINION_NETBACK_SOCAT       socat's path (default: socat on PATH)
import { availableParallelism } from 'node:os';
import { parseIpv4, parseMac, type PortConfig } from '@dominion/switch';
import { parseVifRate, parseVlan } from '@dominion/xlcfg';
import { DEFAULT_BRIDGE, IFNAME } from './bridges.js';
import type { UdpEndpoint } from './dgram-uplink.js';
import { NetbackError } from './errors.js';

type Env = Record<string, string | undefined>;

export type UplinkSpec =
  | { kind: 'dgram'; bridge: string; name: string; bind: UdpEndpoint; remote?: UdpEndpoint; port: PortOptions }
  | { kind: 'tap'; bridge: string; name: string; tap: string; port: PortOptions; linkUp: boolean };

export type PortOptions = Omit<PortConfig, 'name' | 'owner'>;

export interface NetbackConfig {
  bridges: string[];
  uplinks: UplinkSpec[];
  maxQueues: number;
  socat?: string;
}

const MAX_QUEUES_DEFAULT_CAP = 8;

export function netbackConfigFromEnv(env: Env = process.env): NetbackConfig {
  const bridgesText = env.DOMINION_NETBACK_BRIDGES?.trim();
  const bridges = bridgesText ? bridgesText.split(',').map((b) => b.trim()) : [DEFAULT_BRIDGE];
  for (const b of bridges) {
    if (!IFNAME.test(b))
      throw configError('DOMINION_NETBACK_BRIDGES', bridgesText!, `${JSON.stringify(b)} is not a bridge name`);
  }
  const uplinksText = env.DOMINION_NETBACK_UPLINKS?.trim() ?? '';
  const entries = uplinksText === '' ? [] : uplinksText.split(/[\s;]+/).filter((e) => e !== '');
  const uplinks = entries.map((e, i) => parseUplink(e, i, bridges));
  const names = new Set<string>();
  for (const u of uplinks) {
    const key = `${u.bridge}/${u.name}`;
    if (names.has(key)) throw configError('DOMINION_NETBACK_UPLINKS', uplinksText, `port ${key} is named twice`);
    names.add(key);
  }
  const mq = env.DOMINION_NETBACK_MAX_QUEUES;
  let maxQueues = Math.min(availableParallelism(), MAX_QUEUES_DEFAULT_CAP);
  if (mq !== undefined && mq !== '') {
    if (!/^[0-9]{1,3}$/.test(mq) || Number(mq) < 1)
      throw configError('DOMINION_NETBACK_MAX_QUEUES', mq, 'expected 1..999');
    maxQueues = Number(mq);
  }
  return { bridges, uplinks, maxQueues, socat: env.DOMINION_NETBACK_SOCAT || undefined };
}

function configError(key: string, value: string, why: string): NetbackError {
  return new NetbackError('EINVAL', `${key}=${JSON.stringify(value)}: ${why}`);
}

/** One uplink entry; `index` numbers dgram ports that have no name= (dgram0, dgram1, ...). */
export function parseUplink(entry: string, index: number, bridges: readonly string[]): UplinkSpec {
  const fail = (why: string) => configError('DOMINION_NETBACK_UPLINKS', entry, why);
  const [head, ...opts] = entry.split(',');
  const m = /^([^:]+):(dgram|tap):(.+)$/.exec(head);
  if (!m) throw fail('expected <bridge>:dgram:<host>:<port> or <bridge>:tap:<ifname>');
  const [, bridge, kind, target] = m;
  if (!bridges.includes(bridge))
    throw fail(`bridge ${bridge} is not in DOMINION_NETBACK_BRIDGES (${bridges.join(',')})`);
  const port: PortOptions = {};
  const ips: string[] = [];
  let name: string | undefined;
  let remote: UdpEndpoint | undefined;
  let linkUp = true;
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const [k, v] = eq < 0 ? [opt, ''] : [opt.slice(0, eq), opt.slice(eq + 1)];
    try {
      switch (k) {
        case 'name':
          if (!IFNAME.test(v)) throw new Error(`name ${JSON.stringify(v)} is not 1..15 of [A-Za-z0-9_.-]`);
          name = v;
          break;
        case 'mac':
          port.mac = parseMac(v, 'mac');
          break;
        case 'ip':
          ips.push(parseIpv4(v, 'ip'));
          break;
        case 'vlan': {
          const vlan = parseVlan(v);
          if (typeof vlan === 'string') throw new Error(`vlan ${JSON.stringify(v)}: ${vlan}`);
          port.vlan = vlan;
          break;
        }
        case 'rate':
          port.rate = parseVifRate(v);
          break;
        case 'down':
          if (kind !== 'tap' || v !== '') throw new Error('down is a bare option of tap uplinks');
          linkUp = false;
          break;
        case 'remote':
          if (kind !== 'dgram') throw new Error('remote= is for dgram uplinks');
          remote = endpoint(v, 'remote');
          break;
        default:
          throw new Error(`unknown option ${JSON.stringify(k)}`);
      }
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  if (ips.length > 0) port.ips = ips;
  if (kind === 'tap') {
    if (!IFNAME.test(target)) throw fail(`TAP name ${JSON.stringify(target)} is not 1..15 of [A-Za-z0-9_.-]`);
    return { kind: 'tap', bridge, name: name ?? target, tap: target, port, linkUp };
  }
  let bind: UdpEndpoint;
  try {
    bind = endpoint(target, 'bind address');
  } catch (e) {
    throw fail((e as Error).message);
  }
  return { kind: 'dgram', bridge, name: name ?? `dgram${index}`, bind, remote, port };
}

function endpoint(text: string, what: string): UdpEndpoint {
  const m = /^([0-9.]+):([0-9]{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error(`${what} ${JSON.stringify(text)} is not <ipv4>:<port>`);
  return { host: parseIpv4(m[1], what), port: Number(m[2]) };
}
