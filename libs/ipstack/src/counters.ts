// Counters. `link` is what Linux ifconfig shows for the device. Every received frame ends in exactly one of
// three places: handled (delivered to a socket, a ping, or answered), rx errors (malformed: runt, bad
// header, bad checksum) or rx dropped (well formed but unwanted: an EtherType or IP protocol the stack does
// not speak, not addressed to us, no socket on the port, a failed reassembly, interface down). Frames for
// another host's MAC (a bridge floods unknown unicast) are ignored as a NIC filters them, counted only in
// `otherHost`. tx dropped counts packets the stack gave up on before the wire (ARP queue full or address
// unresolved); tx errors counts frames the send callback threw on.
//
// The per-protocol counters carry the SNMP names Linux shows in /proc/net/snmp (RFC 1213, RFC 4293).

export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxDropped: number;
  /** Of rxErrors: frames shorter than the header they claim (ifconfig's `frame` column). */
  rxFrameErrors: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  txDropped: number;
  otherHost: number;
}

export interface ArpCounters {
  inRequests: number;
  inReplies: number;
  outRequests: number;
  outReplies: number;
  /** Addresses given up on after the last unanswered request. */
  resolveFailed: number;
  /** Packets dropped because the queue for an unresolved address was full. */
  unresolvedDiscards: number;
  /** Someone else claimed our address. */
  conflicts: number;
}

export interface IpCounters {
  InReceives: number;
  InHdrErrors: number;
  InCsumErrors: number;
  InAddrErrors: number;
  InUnknownProtos: number;
  InDelivers: number;
  OutRequests: number;
  OutNoRoutes: number;
  ReasmReqds: number;
  ReasmOKs: number;
  ReasmFails: number;
  ReasmTimeout: number;
  FragOKs: number;
  FragCreates: number;
}

export interface IcmpCounters {
  InMsgs: number;
  InErrors: number;
  InCsumErrors: number;
  InDestUnreachs: number;
  InEchos: number;
  InEchoReps: number;
  OutMsgs: number;
  OutDestUnreachs: number;
  OutEchos: number;
  OutEchoReps: number;
}

export interface UdpCounters {
  InDatagrams: number;
  NoPorts: number;
  InErrors: number;
  InCsumErrors: number;
  OutDatagrams: number;
}

export interface IpStackCounters {
  link: LinkCounters;
  arp: ArpCounters;
  ip: IpCounters;
  icmp: IcmpCounters;
  udp: UdpCounters;
}

export function zeroCounters(): IpStackCounters {
  return {
    link: {
      rxPackets: 0,
      rxBytes: 0,
      rxErrors: 0,
      rxDropped: 0,
      rxFrameErrors: 0,
      txPackets: 0,
      txBytes: 0,
      txErrors: 0,
      txDropped: 0,
      otherHost: 0,
    },
    arp: {
      inRequests: 0,
      inReplies: 0,
      outRequests: 0,
      outReplies: 0,
      resolveFailed: 0,
      unresolvedDiscards: 0,
      conflicts: 0,
    },
    ip: {
      InReceives: 0,
      InHdrErrors: 0,
      InCsumErrors: 0,
      InAddrErrors: 0,
      InUnknownProtos: 0,
      InDelivers: 0,
      OutRequests: 0,
      OutNoRoutes: 0,
      ReasmReqds: 0,
      ReasmOKs: 0,
      ReasmFails: 0,
      ReasmTimeout: 0,
      FragOKs: 0,
      FragCreates: 0,
    },
    icmp: {
      InMsgs: 0,
      InErrors: 0,
      InCsumErrors: 0,
      InDestUnreachs: 0,
      InEchos: 0,
      InEchoReps: 0,
      OutMsgs: 0,
      OutDestUnreachs: 0,
      OutEchos: 0,
      OutEchoReps: 0,
    },
    udp: { InDatagrams: 0, NoPorts: 0, InErrors: 0, InCsumErrors: 0, OutDatagrams: 0 },
  };
}
