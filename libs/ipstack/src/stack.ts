// The guest kernel's IPv4 stack for one Ethernet interface (netfront's vif), pure and event-driven:
// `receive()` takes each frame off the wire, `send` (injected) puts frames on it. It answers ARP and
// pings, resolves next hops, fragments and reassembles, and carries UDP for sockets bound to ports.
// Interface up/down, address and MTU are set as `ifconfig` sets them. One stack per interface.
import { NETRXF } from '@dominion/netif';
import { BROADCAST_MAC, IPV4_BROADCAST, formatIpv4, isGroupMac, parseIpv4, parseMac, prefixMask } from './addr.js';
import { ARPOP_REPLY, ARPOP_REQUEST, buildArp, parseArp } from './arp.js';
import { ArpTable, DEFAULT_ARP_OPTIONS, type ArpEntry, type ArpOptions, type PendingPacket } from './arp-table.js';
import { systemClock, type IpClock } from './clock.js';
import { zeroCounters, type IpStackCounters } from './counters.js';
import { IpStackError } from './errors.js';
import { ETH_P_ARP, ETH_P_IP, buildEthernet, parseEthernet } from './ethernet.js';
import { formatArp, formatIfconfig } from './format.js';
import {
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_HLEN,
  ICMP_HOST_UNREACH,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  buildIcmp,
  echoRest,
  parseIcmp,
} from './icmp.js';
import {
  IPDEFTTL,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  IPV4_HLEN,
  IPV4_MAX_LEN,
  fragmentIpv4,
  parseIpv4Packet,
  type Ipv4Header,
} from './ipv4.js';
import { runPing, type EchoListener, type PingOptions, type PingResult } from './ping.js';
import { DEFAULT_REASSEMBLY_OPTIONS, Reassembler, type ReassemblyOptions } from './reassembly.js';
import { UDP_HLEN, buildUdp, parseUdp } from './udp.js';

export interface IpInterfaceConfig {
  /** Interface name for ifconfig (default `eth0`). */
  name?: string;
  mac: string;
  /** IPv4 address; until `configure` gives it one the interface answers and sends nothing. */
  ipv4?: string;
  /** Prefix length (default 24). */
  prefix?: number;
  gateway?: string;
  /** Default 1500 (netif's `mtu` key absent). */
  mtu?: number;
}

export interface IpStackOptions extends IpInterfaceConfig {
  /** Puts one Ethernet frame on the wire (netfront's tx ring). */
  send: (frame: Buffer) => void;
  clock?: IpClock;
  arp?: Partial<ArpOptions>;
  reassembly?: Partial<ReassemblyOptions>;
  /** ICMP errors (port/protocol unreachable) allowed per second, as Linux's icmp_msgs_per_sec bounds them. */
  icmpErrorsPerSecond?: number;
  /** First IPv4 identification and ICMP echo identifier (random by default; fixed for reproducible bytes). */
  firstIds?: { ip?: number; echo?: number };
}

export interface UdpDatagram {
  from: string;
  fromPort: number;
  /** Our address it was sent to (ours or a broadcast). */
  to: string;
  payload: Buffer;
}

export interface UdpSocket {
  readonly port: number;
  /** Sends `payload` (at most 65507 bytes; fragmented above the MTU). */
  send(dst: string, dstPort: number, payload: Uint8Array): void;
  close(): void;
}

export interface InterfaceState {
  name: string;
  mac: string;
  up: boolean;
  mtu: number;
  ipv4?: string;
  prefix: number;
  netmask?: string;
  broadcast?: string;
  gateway?: string;
}

/** The smallest MTU IPv4 requires (RFC 791: 68) and the largest netif carries. */
export const MIN_MTU = 68;
export const MAX_MTU = 65535;
/** Linux's ip_local_port_range. */
const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_LAST = 60999;

export class IpStack {
  readonly counters: IpStackCounters = zeroCounters();
  readonly clock: IpClock;
  private readonly sendFrame: (frame: Buffer) => void;
  private readonly name: string;
  private readonly mac: string;
  private ip?: number;
  private prefix = 24;
  private gateway?: number;
  private mtu = 1500;
  private isUp = false;
  private readonly arp: ArpTable;
  private readonly reasm: Reassembler;
  private readonly sockets = new Map<number, UdpSocket>();
  private readonly udpHandlers = new Map<number, (d: UdpDatagram) => void>();
  private readonly echoListeners = new Map<number, EchoListener>();
  private nextEchoId: number;
  private nextIpId: number;
  private nextEphemeral = EPHEMERAL_FIRST;
  private readonly icmpErrorRate: number;
  private icmpTokens: number;
  private icmpRefilled: number;

  constructor(opts: IpStackOptions) {
    this.sendFrame = opts.send;
    this.clock = opts.clock ?? systemClock;
    this.name = opts.name ?? 'eth0';
    this.mac = parseMac(opts.mac, `interface ${this.name} mac`);
    if (isGroupMac(this.mac))
      throw new IpStackError('EINVAL', `interface ${this.name} mac: ${this.mac} is a group address`);
    this.configure({ ipv4: opts.ipv4, prefix: opts.prefix, gateway: opts.gateway, mtu: opts.mtu });
    this.nextIpId = (opts.firstIds?.ip ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
    this.nextEchoId = Math.max(1, (opts.firstIds?.echo ?? 1 + Math.floor(Math.random() * 0xfffe)) & 0xffff);
    this.icmpErrorRate = opts.icmpErrorsPerSecond ?? 1000;
    this.icmpTokens = this.icmpErrorRate;
    this.icmpRefilled = this.clock.now();
    const arpOpts = positive({ ...DEFAULT_ARP_OPTIONS, ...opts.arp }, `interface ${this.name} arp`);
    const reasmOpts = positive(
      { ...DEFAULT_REASSEMBLY_OPTIONS, ...opts.reassembly },
      `interface ${this.name} reassembly`,
    );
    this.arp = new ArpTable(arpOpts, this.clock, this.counters.arp, {
      solicit: (ip) => this.sendArp(ARPOP_REQUEST, BROADCAST_MAC, '00:00:00:00:00:00', ip),
      transmit: (mac, pending) => this.transmit(mac, pending.packets),
      dropped: (n) => (this.counters.link.txDropped += n),
    });
    this.reasm = new Reassembler(reasmOpts, this.clock, this.counters.ip, (n) => (this.counters.link.rxDropped += n));
  }

  // ---- configuration (ifconfig) ----

  get state(): InterfaceState {
    const s: InterfaceState = { name: this.name, mac: this.mac, up: this.isUp, mtu: this.mtu, prefix: this.prefix };
    if (this.ip !== undefined) {
      const mask = prefixMask(this.prefix);
      s.ipv4 = formatIpv4(this.ip);
      s.netmask = formatIpv4(mask);
      s.broadcast = formatIpv4((this.ip | ~mask) >>> 0);
    }
    if (this.gateway !== undefined) s.gateway = formatIpv4(this.gateway);
    return s;
  }

  /** Sets the address, prefix, gateway (null removes it) or MTU; a new address is announced when up. */
  configure(c: { ipv4?: string; prefix?: number; gateway?: string | null; mtu?: number }): void {
    const where = `interface ${this.name}`;
    const ip = c.ipv4 === undefined ? this.ip : parseIpv4(c.ipv4, `${where} address`);
    const prefix = c.prefix ?? this.prefix;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32)
      throw new IpStackError('EINVAL', `${where} prefix: ${prefix} is not 0..32`);
    const gateway =
      c.gateway === null
        ? undefined
        : c.gateway === undefined
          ? this.gateway
          : parseIpv4(c.gateway, `${where} gateway`);
    const mtu = c.mtu ?? this.mtu;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU)
      throw new IpStackError('EINVAL', `${where} mtu: ${mtu} is not ${MIN_MTU}..${MAX_MTU}`);
    if (gateway !== undefined && (ip === undefined || ((gateway ^ ip) & prefixMask(prefix)) !== 0))
      throw new IpStackError('EINVAL', `${where} gateway: ${formatIpv4(gateway)} is not on the interface's subnet`);
    const announce = ip !== undefined && ip !== this.ip;
    this.ip = ip;
    this.prefix = prefix;
    this.gateway = gateway;
    this.mtu = mtu;
    if (announce && this.isUp) this.announce();
  }

  /** Brings the interface up and announces its address with a gratuitous ARP (RFC 5227 §2.3). */
  up(): void {
    if (this.isUp) return;
    this.isUp = true;
    this.announce();
  }

  /** Takes the interface down: queued packets and partial datagrams are dropped, pings get no replies. */
  down(): void {
    if (!this.isUp) return;
    this.isUp = false;
    this.arp.clear();
    this.reasm.clear();
  }

  arpEntries(): Array<Omit<ArpEntry, 'ip'> & { ip: string }> {
    return this.arp.list().map((e) => ({ ...e, ip: formatIpv4(e.ip) }));
  }

  /** `arp -n` for this interface. */
  formatArp(): string {
    return formatArp(this.arpEntries(), this.name);
  }

  formatIfconfig(): string {
    const s = this.state;
    const l = this.counters.link;
    return formatIfconfig({
      name: s.name,
      up: s.up,
      mtu: s.mtu,
      mac: s.mac,
      ipv4: s.ipv4 ? { address: s.ipv4, netmask: s.netmask!, broadcast: s.broadcast! } : undefined,
      rxPackets: l.rxPackets,
      rxBytes: l.rxBytes,
      rxErrors: l.rxErrors,
      rxDropped: l.rxDropped,
      rxFrameErrors: l.rxFrameErrors,
      txPackets: l.txPackets,
      txBytes: l.txBytes,
      txErrors: l.txErrors,
      txDropped: l.txDropped,
    });
  }

  // ---- receive ----

  /**
   * One frame off the wire. `rxFlags` are the netif rx response flags: with NETRXF_data_validated or
   * NETRXF_csum_blank the backend vouches for the data (a local peer left its checksum to offload), so UDP
   * checksums are not verified, as Linux netfront marks such packets CHECKSUM_UNNECESSARY.
   */
  receive(frame: Uint8Array, rxFlags = 0): void {
    const link = this.counters.link;
    link.rxPackets++;
    link.rxBytes += frame.length;
    const eth = parseEthernet(frame);
    if (!eth) return this.rxError(true);
    if (eth.dst !== this.mac && eth.dst !== BROADCAST_MAC) {
      link.otherHost++;
      return;
    }
    if (!this.isUp) return this.rxDrop();
    if (eth.etherType === ETH_P_ARP) return this.arpInput(eth.payload);
    if (eth.etherType === ETH_P_IP) {
      const validated = (rxFlags & (NETRXF.NETRXF_data_validated | NETRXF.NETRXF_csum_blank)) !== 0;
      return this.ipInput(eth.payload, validated);
    }
    this.rxDrop();
  }

  private rxError(frame = false): void {
    this.counters.link.rxErrors++;
    if (frame) this.counters.link.rxFrameErrors++;
  }

  private rxDrop(): void {
    this.counters.link.rxDropped++;
  }

  private arpInput(bytes: Uint8Array): void {
    const p = parseArp(bytes);
    if (p === 'runt') return this.rxError(true);
    if (p === 'not-ipv4-ethernet') return this.rxDrop();
    const c = this.counters.arp;
    if (p.op === ARPOP_REQUEST) c.inRequests++;
    else if (p.op === ARPOP_REPLY) c.inReplies++;
    else return this.rxDrop();
    if (this.ip !== undefined && p.senderIp === this.ip && p.senderMac !== this.mac) c.conflicts++;
    // RFC 826's merge: refresh a sender we know; add it when the packet is for us.
    const forUs = this.ip !== undefined && p.targetIp === this.ip;
    if (p.senderIp !== 0 && p.senderIp !== this.ip && (forUs || this.arp.has(p.senderIp)) && !isGroupMac(p.senderMac))
      this.arp.confirm(p.senderIp, p.senderMac);
    if (forUs && p.op === ARPOP_REQUEST) this.sendArp(ARPOP_REPLY, p.senderMac, p.senderMac, p.senderIp);
  }

  private ipInput(bytes: Uint8Array, validated: boolean): void {
    const ip = this.counters.ip;
    ip.InReceives++;
    const parsed = parseIpv4Packet(bytes);
    if ('error' in parsed) {
      ip.InHdrErrors++;
      if (parsed.error === 'bad-checksum') ip.InCsumErrors++;
      return this.rxError(parsed.error === 'truncated');
    }
    const header = parsed.header;
    let payload = parsed.payload;
    // Not for us, or from a source no host can have (broadcast, multicast, class E): Linux's martians.
    if (this.ip === undefined || !this.isLocal(header.dst) || header.src >= 0xe0000000) {
      ip.InAddrErrors++;
      return this.rxDrop();
    }
    if (header.mf || header.fragOffset > 0) {
      const whole = this.reasm.add(header, payload);
      if (!whole) return;
      payload = whole;
    }
    this.deliver(header, bytes.subarray(0, header.ihl), payload, validated);
  }

  /** `rawHeader` is the header as received, for ICMP errors to quote. */
  private deliver(header: Ipv4Header, rawHeader: Uint8Array, payload: Uint8Array, validated: boolean): void {
    if (header.protocol === IPPROTO_ICMP) return this.icmpInput(header, payload);
    if (header.protocol === IPPROTO_UDP) return this.udpInput(header, rawHeader, payload, validated);
    this.counters.ip.InUnknownProtos++;
    this.rxDrop();
    this.icmpError(header, rawHeader, payload, ICMP_PROT_UNREACH);
  }

  private icmpInput(header: Ipv4Header, payload: Uint8Array): void {
    const c = this.counters.icmp;
    c.InMsgs++;
    const m = parseIcmp(payload);
    if (typeof m === 'string') {
      c.InErrors++;
      if (m === 'bad-checksum') c.InCsumErrors++;
      return this.rxError();
    }
    this.counters.ip.InDelivers++;
    const from = formatIpv4(header.src);
    if (m.type === ICMP_ECHO) {
      c.InEchos++;
      // Echo to a broadcast address is not answered (Linux icmp_echo_ignore_broadcasts).
      if (header.dst !== this.ip) return this.rxDrop();
      c.OutEchoReps++;
      c.OutMsgs++;
      this.reply(header.src, buildIcmp({ type: ICMP_ECHOREPLY, code: 0, rest: m.rest, data: m.data }));
      return;
    }
    if (m.type === ICMP_ECHOREPLY) {
      c.InEchoReps++;
      const listener = this.echoListeners.get(m.rest >>> 16);
      if (!listener) return this.rxDrop();
      return listener.reply(m.rest & 0xffff, from, header.ttl, payload.length);
    }
    if (m.type === ICMP_DEST_UNREACH) {
      c.InDestUnreachs++;
      return this.destUnreachInput(from, m.code, m.data);
    }
    this.rxDrop();
  }

  /** An ICMP error quoting one of our echo requests goes to that ping. */
  private destUnreachInput(from: string, code: number, quoted: Uint8Array): void {
    if (quoted.length < IPV4_HLEN + ICMP_HLEN || quoted[9] !== IPPROTO_ICMP) return;
    const q = quoted.subarray((quoted[0] & 0x0f) * 4);
    if (q.length < ICMP_HLEN || q[0] !== ICMP_ECHO) return;
    const listener = this.echoListeners.get((q[4] << 8) | q[5]);
    const messages: Record<number, string> = {
      0: 'Destination Net Unreachable',
      [ICMP_HOST_UNREACH]: 'Destination Host Unreachable',
      [ICMP_PROT_UNREACH]: 'Destination Protocol Unreachable',
      [ICMP_PORT_UNREACH]: 'Destination Port Unreachable',
    };
    listener?.error((q[6] << 8) | q[7], from, messages[code] ?? `Dest Unreachable, Bad Code: ${code}`);
  }

  private udpInput(header: Ipv4Header, rawHeader: Uint8Array, payload: Uint8Array, validated: boolean): void {
    const c = this.counters.udp;
    const d = parseUdp(payload, header.src, header.dst, !validated);
    if (typeof d === 'string') {
      c.InErrors++;
      if (d === 'bad-checksum') c.InCsumErrors++;
      return this.rxError(d === 'bad-length');
    }
    const handler = this.udpHandlers.get(d.dstPort);
    if (!handler) {
      c.NoPorts++;
      this.rxDrop();
      this.icmpError(header, rawHeader, payload, ICMP_PORT_UNREACH);
      return;
    }
    c.InDatagrams++;
    this.counters.ip.InDelivers++;
    handler({
      from: formatIpv4(header.src),
      fromPort: d.srcPort,
      to: formatIpv4(header.dst),
      payload: Buffer.from(d.payload),
    });
  }

  // ---- send ----

  /** Binds a UDP port (0 picks a free one from Linux's ephemeral range); `onMessage` gets each datagram. */
  udpBind(port: number, onMessage: (d: UdpDatagram) => void): UdpSocket {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff)
      throw new IpStackError('EINVAL', `udp bind on ${this.name}: port ${port} is not 0..65535`);
    if (port === 0) port = this.ephemeralPort();
    if (this.udpHandlers.has(port))
      throw new IpStackError('EEXIST', `udp bind on ${this.name}: port ${port} is in use`);
    this.udpHandlers.set(port, onMessage);
    let open = true;
    const socket: UdpSocket = {
      port,
      send: (dst, dstPort, payload) => {
        if (!open) throw new IpStackError('ESHUTDOWN', `udp send from port ${port}: socket closed`);
        this.udpSend(port, dst, dstPort, payload);
      },
      close: () => {
        if (!open) return;
        open = false;
        this.udpHandlers.delete(port);
        this.sockets.delete(port);
      },
    };
    this.sockets.set(port, socket);
    return socket;
  }

  private udpSend(srcPort: number, dstText: string, dstPort: number, payload: Uint8Array): void {
    const where = `udp send from port ${srcPort} to ${dstText}:${dstPort}`;
    const dst = parseIpv4(dstText, where);
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 0xffff)
      throw new IpStackError('EINVAL', `${where}: port ${dstPort} is not 1..65535`);
    if (IPV4_HLEN + UDP_HLEN + payload.length > IPV4_MAX_LEN)
      throw new IpStackError('E2BIG', `${where}: ${payload.length} bytes exceed the 65507 a UDP datagram carries`);
    const src = this.requireAddress(where);
    this.counters.udp.OutDatagrams++;
    this.output(dst, IPPROTO_UDP, buildUdp(src, dst, { srcPort, dstPort, payload }), {}, where);
  }

  /** Pings `dst` as iputils ping does; resolves with the run's statistics (100% loss when nothing answers). */
  ping(dst: string, opts: PingOptions = {}): Promise<PingResult> {
    const target = parseIpv4(dst, 'ping destination');
    return runPing(
      {
        clock: this.clock,
        sourceAddress: this.ip === undefined ? '0.0.0.0' : formatIpv4(this.ip),
        allocateEchoId: () => this.allocateEchoId(),
        listenEcho: (id, listener) => {
          this.echoListeners.set(id, listener);
          return () => this.echoListeners.delete(id);
        },
        sendEcho: (to, id, seq, data, ttl, onUnreachable) => {
          const where = `ping ${dst}`;
          this.requireAddress(where);
          this.counters.icmp.OutEchos++;
          this.counters.icmp.OutMsgs++;
          const msg = buildIcmp({ type: ICMP_ECHO, code: 0, rest: echoRest(id, seq), data });
          this.output(to, IPPROTO_ICMP, msg, { ttl, onUnreachable }, where);
        },
      },
      target,
      dst,
      opts,
    );
  }

  /** Closes every socket and takes the interface down. */
  close(): void {
    for (const s of [...this.sockets.values()]) s.close();
    this.down();
  }

  private requireAddress(where: string): number {
    if (!this.isUp) throw new IpStackError('ENOTCONN', `${where}: interface ${this.name} is down`);
    if (this.ip === undefined) throw new IpStackError('ENOTCONN', `${where}: interface ${this.name} has no address`);
    return this.ip;
  }

  /** An ICMP message answering a received packet; never throws (no route: counted and dropped). */
  private reply(dst: number, icmp: Buffer): void {
    if (this.route(dst) !== undefined) this.output(dst, IPPROTO_ICMP, icmp, {});
  }

  /** The next hop for `dst`, or undefined (counted) when there is none: off-link with no gateway. */
  private route(dst: number): number | undefined {
    const mask = prefixMask(this.prefix);
    if (dst === IPV4_BROADCAST || ((dst ^ this.ip!) & mask) === 0) return dst;
    if (this.gateway !== undefined) return this.gateway;
    this.counters.ip.OutNoRoutes++;
    return undefined;
  }

  /** Routes, fragments and sends one datagram from our address; packets to ourselves loop back. */
  private output(
    dst: number,
    protocol: number,
    payload: Uint8Array,
    o: { ttl?: number; onUnreachable?: () => void },
    where = 'send',
  ): void {
    const src = this.ip;
    if (src === undefined || !this.isUp) return;
    const c = this.counters.ip;
    const nextHop = this.route(dst);
    if (nextHop === undefined)
      throw new IpStackError(
        'ENOENT',
        `${where}: no route to ${formatIpv4(dst)} from ${this.name} (${formatIpv4(src)}/${this.prefix}, no gateway)`,
      );
    const mask = prefixMask(this.prefix);
    const broadcast =
      dst === IPV4_BROADCAST || (mask !== IPV4_BROADCAST && nextHop === dst && (dst | mask) >>> 0 === IPV4_BROADCAST);
    c.OutRequests++;
    const id = this.nextIpId;
    this.nextIpId = (this.nextIpId + 1) & 0xffff;
    const packets = fragmentIpv4({ id, ttl: o.ttl ?? IPDEFTTL, protocol, src, dst }, payload, this.mtu);
    if (packets.length > 1) {
      c.FragOKs++;
      c.FragCreates += packets.length;
    }
    if (dst === src) {
      // Our own address goes through the loopback, not the wire, after the current event.
      queueMicrotask(() => {
        for (const p of packets) this.loopback(p);
      });
      return;
    }
    if (broadcast) return this.transmit(BROADCAST_MAC, packets);
    const mac = this.arp.lookup(nextHop);
    const pending: PendingPacket = { packets, onUnreachable: o.onUnreachable };
    if (mac) this.transmit(mac, packets);
    else this.arp.resolve(nextHop, pending);
  }

  private loopback(packet: Uint8Array): void {
    if (!this.isUp) return;
    const parsed = parseIpv4Packet(packet);
    if ('error' in parsed) return;
    const header = parsed.header;
    let payload = parsed.payload;
    if (header.mf || header.fragOffset > 0) {
      const whole = this.reasm.add(header, payload);
      if (!whole) return;
      payload = whole;
    }
    this.counters.ip.InReceives++;
    this.deliver(header, packet.subarray(0, header.ihl), payload, true);
  }

  private transmit(mac: string, packets: Uint8Array[]): void {
    for (const p of packets) this.emit(buildEthernet(mac, this.mac, ETH_P_IP, p));
  }

  private sendArp(op: number, ethDst: string, targetMac: string, targetIp: number): void {
    if (this.ip === undefined) return;
    if (op === ARPOP_REQUEST) this.counters.arp.outRequests++;
    else this.counters.arp.outReplies++;
    const arp = buildArp({ op, senderMac: this.mac, senderIp: this.ip, targetMac, targetIp });
    this.emit(buildEthernet(ethDst, this.mac, ETH_P_ARP, arp));
  }

  private announce(): void {
    if (this.ip !== undefined) this.sendArp(ARPOP_REQUEST, BROADCAST_MAC, '00:00:00:00:00:00', this.ip);
  }

  private emit(frame: Buffer): void {
    const link = this.counters.link;
    try {
      this.sendFrame(frame);
    } catch {
      link.txErrors++;
      return;
    }
    link.txPackets++;
    link.txBytes += frame.length;
  }

  /** Port or protocol unreachable for a datagram to our own address, within the rate limit. */
  private icmpError(header: Ipv4Header, rawHeader: Uint8Array, payload: Uint8Array, code: number): void {
    if (header.dst !== this.ip || this.ip === undefined) return;
    const now = this.clock.now();
    this.icmpTokens = Math.min(
      this.icmpErrorRate,
      this.icmpTokens + ((now - this.icmpRefilled) * this.icmpErrorRate) / 1000,
    );
    this.icmpRefilled = now;
    if (this.icmpTokens < 1) return;
    this.icmpTokens--;
    // RFC 792: the offending header and the first 8 bytes of its data.
    const quoted = Buffer.concat([rawHeader, payload.subarray(0, 8)]);
    this.counters.icmp.OutDestUnreachs++;
    this.counters.icmp.OutMsgs++;
    this.reply(header.src, buildIcmp({ type: ICMP_DEST_UNREACH, code, rest: 0, data: quoted }));
  }

  private isLocal(dst: number): boolean {
    const mask = prefixMask(this.prefix);
    return dst === this.ip || dst === IPV4_BROADCAST || (mask !== IPV4_BROADCAST && dst === (this.ip! | ~mask) >>> 0);
  }

  private allocateEchoId(): number {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.nextEchoId;
      this.nextEchoId = (this.nextEchoId % 0xffff) + 1;
      if (!this.echoListeners.has(id)) return id;
    }
    throw new IpStackError('EEXIST', `ping on ${this.name}: every ICMP identifier is in use`);
  }

  private ephemeralPort(): number {
    for (let i = 0; i <= EPHEMERAL_LAST - EPHEMERAL_FIRST; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === EPHEMERAL_LAST ? EPHEMERAL_FIRST : p + 1;
      if (!this.udpHandlers.has(p)) return p;
    }
    throw new IpStackError('EEXIST', `udp bind on ${this.name}: no free ephemeral port`);
  }
}

/** The options with every limit checked to be a positive number. */
function positive<T extends object>(opts: T, where: string): T {
  for (const [key, value] of Object.entries(opts))
    if (typeof value !== 'number' || !(value > 0))
      throw new IpStackError('EINVAL', `${where} ${key}: ${String(value)} is not a positive number`);
  return opts;
}
