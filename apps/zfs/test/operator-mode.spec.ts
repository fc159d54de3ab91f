// The ZFS domain on a nats-server in operator mode, logged in with the credentials the hypervisor would mint
// for a driver domain: dom0 administers pools, a guest can neither call the API nor forge dom0's subject.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import {
  credentialsEnv,
  IdentityStore,
  mintDomainUser,
  writeCredsFile,
  writeNatsServerConfig,
  type MintedUser,
} from '@dominion/identity';
import { freePort, startNatsServer, tempDir, type NatsServerHandle } from '@dominion/testing';
import { ZfsModule } from '../src/index.js';
import type { PoolView } from './types.js';

describe('the ZFS domain with minted credentials', () => {
  const tmp = tempDir('zfs-operator-');
  let server: NatsServerHandle;
  let app: INestApplicationContext;
  let dom0: NatsConnection;
  let guest: NatsConnection;

  const login = (u: MintedUser) =>
    connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(u.creds)),
      inboxPrefix: u.inboxPrefix,
      reconnect: false,
    });

  beforeAll(async () => {
    const store = await IdentityStore.open(join(tmp.path, 'identity'));
    const port = await freePort();
    const conf = join(tmp.path, 'nats-server.conf');
    await writeNatsServerConfig(store, conf, { port, resolverDir: join(tmp.path, 'jwt') });
    server = await startNatsServer({ noDefaultListen: true, args: ['-c', conf] });
    const zfsUser = await mintDomainUser(store.account, 3, 'driver');
    const credsFile = join(tmp.path, 'zfs.creds');
    await writeCredsFile(credsFile, zfsUser.creds);
    app = await NestFactory.createApplicationContext(
      ZfsModule.forRoot({
        env: {
          DOMINION_NATS_URL: server.url,
          ...credentialsEnv(credsFile, zfsUser.inboxPrefix),
          DOMINION_STATE_DIR: tmp.path,
          DOMINION_LOG_LEVEL: 'silent',
          DOMINION_ZFS_POOLS: 'tank:single:tank.img:64M',
        },
        heartbeat: false,
      }),
      { logger: false },
    );
    await app.init();
    dom0 = await login(await mintDomainUser(store.account, 0, 'control'));
    guest = await login(await mintDomainUser(store.account, 5, 'guest'));
  });

  afterAll(async () => {
    await app?.close();
    await dom0?.close();
    await guest?.close();
    await server?.stop();
    tmp.remove();
  });

  it('answers dom0 into its own inbox; a guest is refused by NATS as caller 5 and as caller 0', async () => {
    const pools = await busRequest<PoolView[]>(dom0, subjects.zfs(0, 'pool-list'), {});
    expect(pools.map((p) => [p.name, p.health])).toEqual([['tank', 'ONLINE']]);
    await busRequest(dom0, subjects.zfs(0, 'create'), { name: 'tank/vm1', volsize: '8M', sparse: true });
    await expect(busRequest(guest, subjects.zfs(5, 'pool-list'), {}, { timeoutMs: 2000 })).rejects.toMatchObject({
      kind: 'EACCES',
    });
    await expect(
      busRequest(guest, subjects.zfs(0, 'destroy'), { name: 'tank/vm1' }, { timeoutMs: 2000 }),
    ).rejects.toMatchObject({ kind: 'EACCES' });
    const list = await busRequest<Array<{ name: string }>>(dom0, subjects.zfs(0, 'list'), {});
    expect(list.map((d) => d.name)).toEqual(['tank', 'tank/vm1']);
  });
});
