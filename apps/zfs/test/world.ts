// The ZFS domain's test world: a real nats-server, a real xenstored on it (dom0's view, and a home for the
// storage domain), the zfs app itself from its environment, and dom0's side of the API and the CLIs.
import 'reflect-metadata';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { NodeFileIO } from '@dominion/fsio';
import { freePort, startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { XenstoreClient, Xenstored, XsNatsTransport } from '@dominion/xenstore';
import { ZfsModule, ZfsService } from '../src/index.js';
import { runZfs } from '../src/cli/zfs.js';
import { runZpool } from '../src/cli/zpool.js';
import type { ZfsCall } from '../src/cli/io.js';

export const ZFS_DOMID = 3;

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface World {
  dir: string;
  natsUrl: string;
  nc: NatsConnection;
  dom0: XenstoreClient;
  call: ZfsCall;
  app: INestApplicationContext;
  service: ZfsService;
  /** `zfs …`, with stdin read from and stdout written to files when given (`< in`, `> out`). */
  zfs(argv: string[], redirect?: { stdin?: string; stdout?: string }): Promise<CliResult>;
  zpool(argv: string[]): Promise<CliResult>;
  startApp(): Promise<void>;
  stopApp(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWorld(pools: string): Promise<World> {
  const srv: NatsServerHandle = await startNatsServer();
  const tmp = tempDir('zfs-domain-');
  const xsd = await Xenstored.open({ io: new NodeFileIO(), dir: `${tmp.path}/xenstore` });
  const daemonNc = await connect({ servers: srv.url });
  const transport = new XsNatsTransport(xsd, daemonNc);
  await transport.start();
  const nc = await connect({ servers: srv.url });
  const dom0 = new XenstoreClient(nc, { domid: 0, onError: () => undefined });
  await dom0.introduce(ZFS_DOMID, 0, 1);
  await dom0.mkdir(`/local/domain/${ZFS_DOMID}`);
  await dom0.setPerms(`/local/domain/${ZFS_DOMID}`, [{ domid: ZFS_DOMID, perm: 'n' }]);
  const grpcPort = await freePort();
  const env = {
    DOMINION_NATS_URL: srv.url,
    DOMINION_DOMID: String(ZFS_DOMID),
    DOMINION_STATE_DIR: tmp.path,
    DOMINION_LOG_LEVEL: 'silent',
    DOMINION_ZFS_POOLS: pools,
    DOMINION_ZFS_GRPC_PORT: String(grpcPort),
    DOMINION_ZFS_TXG_MS: '200',
  };
  const call: ZfsCall = (verb, body) => busRequest(nc, subjects.zfs(0, verb), body, { timeoutMs: 20_000 });
  const capture = () => {
    const r = { out: '', err: '' };
    return { r, io: { out: (t: string) => (r.out += t), err: (t: string) => (r.err += t) } };
  };
  const w: World = {
    dir: `${tmp.path}/zfs`,
    natsUrl: srv.url,
    nc,
    dom0,
    call,
    app: undefined as unknown as INestApplicationContext,
    service: undefined as unknown as ZfsService,
    zfs: async (argv, redirect = {}) => {
      const { r, io } = capture();
      const stdin = redirect.stdin ? createReadStream(redirect.stdin) : undefined;
      const stdout = redirect.stdout ? createWriteStream(redirect.stdout) : undefined;
      const code = await runZfs(argv, call, { ...io, stdin, stdout });
      if (stdout) {
        stdout.end();
        await once(stdout, 'close');
      }
      stdin?.destroy();
      return { code, ...r };
    },
    zpool: async (argv) => {
      const { r, io } = capture();
      const code = await runZpool(argv, call, io);
      return { code, ...r };
    },
    startApp: async () => {
      w.app = await NestFactory.createApplicationContext(ZfsModule.forRoot({ env, heartbeat: false }), {
        logger: false,
      });
      await w.app.init();
      w.service = w.app.get(ZfsService);
    },
    stopApp: async () => {
      await w.app.close();
    },
    stop: async () => {
      await w.app?.close().catch(() => undefined);
      await dom0.close().catch(() => undefined);
      await nc.close();
      await transport.stop();
      await daemonNc.close();
      await srv.stop();
      tmp.remove();
    },
  };
  await w.startApp();
  return w;
}
