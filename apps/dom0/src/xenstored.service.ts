// dom0's xenstored: the store (durable under <stateDir>/xenstore), served to domains over NATS and to
// dom0's own tools over the xs_wire Unix socket. The logic is in @dominion/xenstore; this is the wiring.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NodeFileIO } from '@dominion/fsio';
import { DOMAIN_CONFIG, Health, LOGGER, NATS_CONNECTION, type DomainConfig, type Logger } from '@dominion/runtime';
import { Xenstored, XsNatsTransport, type XenstoredLogger } from '@dominion/xenstore';
import { xenstoreDir, xenstoredSocketPath } from './config.js';
import { XsSocketServer } from './xs-socket.js';

@Injectable()
export class XenstoredService implements OnModuleInit, OnModuleDestroy {
  private daemon: Xenstored | undefined;
  private nats: XsNatsTransport | undefined;
  private socket: XsSocketServer | undefined;
  private readonly logFn: XenstoredLogger;

  constructor(
    @Inject(DOMAIN_CONFIG) private readonly cfg: DomainConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) log: Logger,
    private readonly health: Health,
  ) {
    this.logFn = (level, msg, fields) => log[level](fields ?? {}, msg);
  }

  /** The daemon, for dom0's toolstack (introduce/release, its own session). */
  get xenstored(): Xenstored {
    if (!this.daemon) throw new Error('xenstored is not running');
    return this.daemon;
  }

  get socketPath(): string {
    return xenstoredSocketPath(this.cfg);
  }

  async onModuleInit(): Promise<void> {
    // The socket first: a live one means another xenstored owns this state dir, whose store we must not open.
    await XsSocketServer.claim(this.socketPath);
    try {
      this.daemon = await Xenstored.open({ io: new NodeFileIO(), dir: xenstoreDir(this.cfg), log: this.logFn });
      this.nats = new XsNatsTransport(this.daemon, this.nc, { log: this.logFn });
      await this.nats.start();
      this.socket = await XsSocketServer.listen(this.socketPath, this.daemon, this.logFn);
    } catch (e) {
      await this.onModuleDestroy().catch(() => undefined);
      throw e;
    }
    this.health.register('xenstored', () => this.daemon?.ready === true && this.socket?.listening === true);
    this.logFn('info', `xenstored serving xen.xs.* and ${this.socketPath}`);
  }

  /** Stops both transports, gives every owed reply, closes the journal. */
  async onModuleDestroy(): Promise<void> {
    await this.socket?.close();
    await this.nats?.stop();
    await this.daemon?.close();
    this.socket = undefined;
    this.nats = undefined;
  }
}
