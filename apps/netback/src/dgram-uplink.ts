// A datagram uplink: one UDP socket, one Ethernet frame per datagram, no header, the format QEMU's
// `-netdev dgram` / `-netdev socket,udp=` and socat's UDP-DATAGRAM speak. The peer is either configured
// (then datagrams from anyone else are dropped and counted: loopback is shared) or learned from the
// latest datagram, so a QEMU or socat started later just has to send.
import dgram from 'node:dgram';
import type { PortConfig } from '@dominion/switch';
import type { BridgeLink, BridgePort, BridgePortKind } from './bridge-port.js';
import type { Bridge } from './bridge.js';
import { silentLogger, type NetbackLogger } from './logger.js';

export interface UdpEndpoint {
  host: string;
  port: number;
}

export interface DatagramUplinkOptions {
  bridge: Bridge;
  /** The port's name on the bridge. */
  name: string;
  /** Where the socket binds; port 0 picks one. */
  bind: UdpEndpoint;
  /** The fixed peer; absent: learned from the latest datagram. */
  remote?: UdpEndpoint;
  /** Anti-spoofing, VLANs and rate for frames coming in from the peer. */
  port?: Omit<PortConfig, 'name' | 'owner'>;
  kind?: BridgePortKind;
  owner?: string;
  logger?: NetbackLogger;
}

export interface DatagramUplinkCounters {
  /** Datagrams from a source other than the configured peer, dropped. */
  foreignDropped: number;
  /** Sends the socket refused (too big, socket error). */
  sendErrors: number;
}

export class DatagramUplink implements BridgeLink {
  readonly port: BridgePort;
  readonly counters: DatagramUplinkCounters = { foreignDropped: 0, sendErrors: 0 };
  private peer: UdpEndpoint | undefined;
  private fixedPeer: boolean;
  private closed = false;
  private readonly log: NetbackLogger;

  private constructor(
    private readonly sock: dgram.Socket,
    opts: DatagramUplinkOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
    this.peer = opts.remote;
    this.fixedPeer = opts.remote !== undefined;
    this.port = opts.bridge.attach(
      { ...opts.port, name: opts.name, owner: opts.owner ?? `${opts.kind ?? 'dgram'} uplink` },
      opts.kind ?? 'dgram',
      this,
    );
    sock.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    sock.on('error', (e) => this.log('warn', `uplink ${opts.name}: socket error: ${e.message}`));
  }

  /** Binds the socket and plugs the port into the bridge (EEXIST for a port name already there). */
  static async open(opts: DatagramUplinkOptions): Promise<DatagramUplink> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(opts.bind.port, opts.bind.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    try {
      return new DatagramUplink(sock, opts);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  get name(): string {
    return this.port.name;
  }

  /** The bound address. */
  get local(): UdpEndpoint {
    const a = this.sock.address();
    return { host: a.address, port: a.port };
  }

  get remote(): UdpEndpoint | undefined {
    return this.peer;
  }

  /** Fixes the peer (a TAP uplink's socat after a restart). */
  setRemote(remote: UdpEndpoint): void {
    this.peer = remote;
    this.fixedPeer = true;
  }

  /** BridgeLink: a frame from the bridge goes out as one datagram; dropped while no peer is known. */
  transmit(frame: Uint8Array): boolean {
    const peer = this.peer;
    if (peer === undefined || this.closed) return false;
    this.sock.send(frame, peer.port, peer.host, (e) => {
      if (e) this.counters.sendErrors++;
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.port.detach();
    await new Promise<void>((r) => this.sock.close(() => r()));
  }

  private onDatagram(msg: Buffer, from: dgram.RemoteInfo): void {
    if (this.closed) return;
    const peer = this.peer;
    if (this.fixedPeer) {
      if (peer === undefined || from.address !== peer.host || from.port !== peer.port) {
        this.counters.foreignDropped++;
        return;
      }
    } else if (peer === undefined || peer.host !== from.address || peer.port !== from.port) {
      this.peer = { host: from.address, port: from.port };
      this.log('info', `uplink ${this.name}: peer is ${from.address}:${from.port}`);
    }
    void this.port.input(msg);
  }
}
