// The identity store on real files: permissions, generation once, reload, refusal of damaged state; and the
// files derived from it (nats-server configuration, .creds).
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { decode, type Account } from '@nats-io/jwt';
import { createOperator, createAccount } from '../src/keys.js';
import { tempDir } from '@dominion/testing';
import {
  ACCOUNT_LIMITS,
  IDENTITY_FILE,
  IdentityStore,
  credentialsEnv,
  natsServerConfig,
  revocationsOf,
  revokedAccountJwt,
  writeCredsFile,
  writeNatsServerConfig,
} from '../src/index.js';

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('IdentityStore', () => {
  const tmp = tempDir('identity-store-');
  afterAll(() => tmp.remove());

  it('generates the identity once, in a 0700 directory and a 0600 file, and loads the same on restart', async () => {
    const dir = join(tmp.path, 'a', 'identity');
    const first = await IdentityStore.open(dir);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(first.file)).toBe(0o600);
    expect(first.file).toBe(join(dir, IDENTITY_FILE));
    const again = await IdentityStore.open(dir);
    expect(again.operator).toEqual(first.operator);
    expect(again.account).toEqual(first.account);
    expect(again.system).toEqual(first.system);
    const onDisk = JSON.parse(await readFile(first.file, 'utf8'));
    expect(onDisk.account.signingSeed).toBe(first.account.signingSeed);
  });

  it('lets only one of two processes starting at once generate it', async () => {
    const dir = join(tmp.path, 'race');
    const [a, b] = await Promise.all([IdentityStore.open(dir), IdentityStore.open(dir)]);
    expect(a.operator.publicKey).toBe(b.operator.publicKey);
    expect(a.account.signingSeed).toBe(b.account.signingSeed);
  });

  it('tightens loosened permissions on open', async () => {
    const dir = join(tmp.path, 'loose');
    const s = await IdentityStore.open(dir);
    await chmod(dir, 0o755);
    await chmod(s.file, 0o644);
    await IdentityStore.open(dir);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(s.file)).toBe(0o600);
  });

  it('refuses a damaged file instead of generating a new identity over it', async () => {
    const dir = join(tmp.path, 'damaged');
    const s = await IdentityStore.open(dir);
    const good = await readFile(s.file, 'utf8');
    await writeFile(s.file, good.slice(0, 100));
    await expect(IdentityStore.open(dir)).rejects.toMatchObject({
      kind: 'EIO',
      message: expect.stringContaining('not valid JSON'),
    });
    // An account JWT signed by another operator: well-formed, but not this identity's.
    const other = await createAccount(await createOperator());
    const forged = JSON.parse(good);
    forged.account.jwt = other.jwt;
    await writeFile(s.file, JSON.stringify(forged));
    await expect(IdentityStore.open(dir)).rejects.toThrow(/account\.seed: seed does not belong to public key/);
    await writeFile(s.file, good);
    await expect(IdentityStore.open(dir)).resolves.toBeInstanceOf(IdentityStore);
  });

  it('persists an account JWT update before publishing it, and keeps it when the publish fails', async () => {
    const dir = join(tmp.path, 'update');
    const s = await IdentityStore.open(dir);
    const user = createUser().getPublicKey();
    await expect(
      s.updateAccountJwt(
        (cur) => revokedAccountJwt(s.operator, cur.jwt, [user], 1_800_000_000),
        () => Promise.reject(new Error('server down')),
      ),
    ).rejects.toThrow('server down');
    expect(revocationsOf((await IdentityStore.open(dir)).account.jwt)).toEqual({ [user]: 1_800_000_000 });
    // An update that is not this account's JWT is refused and nothing is written.
    const foreign = await createAccount(await createOperator());
    await expect(s.updateAccountJwt(async () => foreign.jwt)).rejects.toMatchObject({ kind: 'EIO' });
    expect(revocationsOf((await IdentityStore.open(dir)).account.jwt)).toEqual({ [user]: 1_800_000_000 });
  });
});

describe('revokedAccountJwt', () => {
  it('adds revocations, keeps the rest of the account, and never moves a revocation back', async () => {
    const op = await createOperator();
    const acc = await createAccount(op);
    const u1 = createUser().getPublicKey();
    const j1 = await revokedAccountJwt(op, acc.jwt, [u1], 2000);
    const j2 = await revokedAccountJwt(op, j1, [u1], 1000);
    expect(revocationsOf(j2)).toEqual({ [u1]: 2000 });
    const c = decode<Account>(j2); // verifies the operator's signature
    expect(c.iss).toBe(op.publicKey);
    expect(c.sub).toBe(acc.publicKey);
    expect(c.nats.limits).toEqual(ACCOUNT_LIMITS);
    expect(c.nats.signing_keys).toEqual([acc.signingPublicKey]);
    await expect(revokedAccountJwt(op, acc.jwt, ['AAAA'])).rejects.toMatchObject({ kind: 'EINVAL' });
    await expect(revokedAccountJwt(op, acc.jwt, [acc.publicKey])).rejects.toThrow(/not a NATS user public key/);
  });
});

describe('nats-server configuration', () => {
  const tmp = tempDir('identity-conf-');
  afterAll(() => tmp.remove());
  const m = {
    operator: { jwt: 'OPJWT' },
    account: { publicKey: 'ADOMINION', jwt: 'ACCJWT' },
    system: { publicKey: 'ASYS', jwt: 'SYSJWT' },
  };

  it('is operator mode with the full resolver, the system account, both accounts preloaded, on loopback', () => {
    expect(natsServerConfig(m, { port: 4222, resolverDir: '/var/lib/dominion/jwt' }).split('\n')).toEqual([
      '# Written by @dominion/identity at every start, from the identity store. Do not edit: changes are lost.',
      'listen: "127.0.0.1:4222"',
      'operator: "OPJWT"',
      'system_account: "ASYS"',
      '# full, not MEMORY: claims updates (revocations) apply to any account and persist across restarts.',
      'resolver: {',
      '  type: full',
      '  dir: "/var/lib/dominion/jwt"',
      '  allow_delete: false',
      '}',
      'resolver_preload: {',
      '  ASYS: "SYSJWT"',
      '  ADOMINION: "ACCJWT"',
      '}',
      '# A client signs the server nonce with its nkey at CONNECT; on a loaded 2-core host several clients',
      '# connecting at once can take longer than the 2 s default, and are then cut off mid-handshake.',
      'authorization: {',
      '  timeout: 10',
      '}',
      '',
    ]);
  });

  it('refuses a bad port, host or resolver directory', () => {
    expect(() => natsServerConfig(m, { port: 0, resolverDir: '/x' })).toThrow(/port 0/);
    expect(() => natsServerConfig(m, { port: 1, host: '1.2.3.4 x', resolverDir: '/x' })).toThrow(/host/);
    expect(() => natsServerConfig(m, { port: 1, resolverDir: 'jwt' })).toThrow(/absolute/);
  });

  it('writes the file 0600 and the resolver directory 0700', async () => {
    const file = join(tmp.path, 'nats.conf');
    await writeNatsServerConfig(m, file, { port: 4222, host: '0.0.0.0', resolverDir: join(tmp.path, 'jwt') });
    expect(await mode(file)).toBe(0o600);
    expect(await mode(join(tmp.path, 'jwt'))).toBe(0o700);
    expect(await readFile(file, 'utf8')).toContain('listen: "0.0.0.0:4222"');
  });

  it('hands credentials over as a 0600 file and the runtime’s variables', async () => {
    const file = join(tmp.path, 'dom5.creds');
    await writeCredsFile(file, 'secret creds');
    expect(await mode(file)).toBe(0o600);
    expect(credentialsEnv(file, '_INBOX.dom5')).toEqual({
      DOMINION_NATS_CREDS: file,
      DOMINION_NATS_INBOX_PREFIX: '_INBOX.dom5',
    });
  });
});
