// Text modelled on the Linux tools a shell user knows: iputils ping (20221126) and net-tools ifconfig and
// arp (2.10), field for field, so output from a PV guest reads like output from a Linux one.
import type { PingEvent, PingResult } from './ping.js';

/** `PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.` */
export function formatPingHeader(dst: string, size: number): string {
  return `PING ${dst} (${dst}) ${size}(${size + 28}) bytes of data.`;
}

/** `64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.512 ms` or `From 10.0.0.1 icmp_seq=1 Destination Host Unreachable`. */
export function formatPingEvent(e: PingEvent): string {
  if (e.kind === 'error') return `From ${e.from} icmp_seq=${e.seq} ${e.message}`;
  const dup = e.duplicate ? ' (DUP!)' : '';
  return `${e.bytes} bytes from ${e.from}: icmp_seq=${e.seq} ttl=${e.ttl} time=${formatTripTime(e.timeMs)} ms${dup}`;
}

/** The statistics block printed when ping ends. */
export function formatPingSummary(r: PingResult): string {
  let counts = `${r.transmitted} packets transmitted, ${r.received} received`;
  if (r.duplicates) counts += `, +${r.duplicates} duplicates`;
  if (r.errors) counts += `, +${r.errors} errors`;
  counts += `, ${formatG(r.loss)}% packet loss, time ${Math.round(r.elapsedMs)}ms`;
  const lines = [`--- ${r.dst} ping statistics ---`, counts];
  if (r.rtt) {
    const { min, avg, max, mdev } = r.rtt;
    lines.push(`rtt min/avg/max/mdev = ${[min, avg, max, mdev].map((v) => v.toFixed(3)).join('/')} ms`);
  }
  return lines.join('\n');
}

/** Everything ping prints for a finished run. */
export function formatPing(r: PingResult): string {
  return (
    [formatPingHeader(r.dst, r.size), ...r.events.map(formatPingEvent), '', formatPingSummary(r)].join('\n') + '\n'
  );
}

/** iputils' precision for a round trip: three decimals under 1 ms, two under 10, one under 100, none above. */
function formatTripTime(ms: number): string {
  const us = Math.round(ms * 1000);
  if (us >= 100000 - 50) return String(Math.floor((us + 500) / 1000));
  if (us >= 10000 - 5) return (Math.floor((us + 50) / 100) / 10).toFixed(1);
  if (us >= 1000) return (Math.floor((us + 5) / 10) / 100).toFixed(2);
  return (us / 1000).toFixed(3);
}

/** printf's %g for a percentage: six significant digits, no trailing zeros. */
function formatG(x: number): string {
  return String(Number(x.toPrecision(6)));
}

export interface IfconfigView {
  name: string;
  up: boolean;
  mtu: number;
  mac: string;
  ipv4?: { address: string; netmask: string; broadcast: string };
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxDropped: number;
  rxFrameErrors: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  txDropped: number;
}

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_RUNNING = 0x40;
const IFF_MULTICAST = 0x1000;

/** One interface as `ifconfig eth0` prints it (net-tools' two spaces between fields, one before TX overruns). */
export function formatIfconfig(v: IfconfigView): string {
  const flags = (v.up ? IFF_UP | IFF_RUNNING : 0) | IFF_BROADCAST | IFF_MULTICAST;
  const names = [
    [IFF_UP, 'UP'],
    [IFF_BROADCAST, 'BROADCAST'],
    [IFF_RUNNING, 'RUNNING'],
    [IFF_MULTICAST, 'MULTICAST'],
  ] as const;
  const flagText = names
    .filter(([bit]) => flags & bit)
    .map(([, n]) => n)
    .join(',');
  const pad = '        ';
  const lines = [`${v.name}: flags=${flags}<${flagText}>  mtu ${v.mtu}`];
  if (v.ipv4) lines.push(`${pad}inet ${v.ipv4.address}  netmask ${v.ipv4.netmask}  broadcast ${v.ipv4.broadcast}`);
  lines.push(
    `${pad}ether ${v.mac}  txqueuelen 1000  (Ethernet)`,
    `${pad}RX packets ${v.rxPackets}  bytes ${v.rxBytes} (${scaledBytes(v.rxBytes)})`,
    `${pad}RX errors ${v.rxErrors}  dropped ${v.rxDropped}  overruns 0  frame ${v.rxFrameErrors}`,
    `${pad}TX packets ${v.txPackets}  bytes ${v.txBytes} (${scaledBytes(v.txBytes)})`,
    `${pad}TX errors ${v.txErrors}  dropped ${v.txDropped} overruns 0  carrier 0  collisions 0`,
  );
  return lines.join('\n') + '\n\n';
}

/** net-tools' print_bytes_scaled: powers of 1024 up to TiB, one truncated decimal. */
function scaledBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let int = n;
  let frac = 0;
  while (int >= 1024 && i < units.length - 1) {
    frac = Math.floor(((int % 1024) * 10) / 1024);
    int = Math.floor(int / 1024);
    i++;
  }
  return `${int}.${frac} ${units[i]}`;
}

export interface ArpView {
  ip: string;
  state: 'REACHABLE' | 'INCOMPLETE';
  mac?: string;
}

/** The table as `arp -n` prints it: resolved entries flagged C (complete), unresolved ones (incomplete). */
export function formatArp(entries: readonly ArpView[], iface: string): string {
  const lines = ['Address                  HWtype  HWaddress           Flags Mask            Iface'];
  for (const e of entries) {
    const addr = e.ip.padEnd(23) + '  ';
    if (e.state === 'REACHABLE' && e.mac)
      lines.push(`${addr}${'ether'.padEnd(8)}${e.mac.padEnd(20)}${'C'.padEnd(6)}${''.padEnd(15)} ${iface}`);
    else lines.push(`${addr}${''.padEnd(8)}${'(incomplete)'.padEnd(20)}${''.padEnd(6)}${''.padEnd(15)} ${iface}`);
  }
  return lines.join('\n') + '\n';
}
