// The persisted domid -> user key tables (the hypervisor's and the launcher's) on real files, and offline
// revocation in the store (what the launcher does before nats-server starts).
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { DOMID } from '@dominion/abi';
import { tempDir } from '@dominion/testing';
import { IdentityStore, UserKeyTable, revocationsOf, revokeUserOffline } from '../src/index.js';

const userKey = (): string => createUser().getPublicKey();

describe('UserKeyTable', () => {
  const tmp = tempDir('user-keys-');
  afterAll(() => tmp.remove());

  it('keeps keys across a reopen in a 0600 file, replaced atomically (no temporary left behind)', async () => {
    const file = join(tmp.path, 'a.json');
    const t = await UserKeyTable.open(file);
    expect(t.size).toBe(0);
    const [k5, k0, kx] = [userKey(), userKey(), userKey()];
    await Promise.all([
      t.set(5, { key: k5, role: 'guest' }),
      t.set(0, { key: k0, role: 'control' }),
      t.set(DOMID.DOMID_XEN, { key: kx, role: 'hypervisor' }),
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await UserKeyTable.open(file);
    expect(again.entries()).toEqual([
      [0, { key: k0, role: 'control' }],
      [5, { key: k5, role: 'guest' }],
      [DOMID.DOMID_XEN, { key: kx, role: 'hypervisor' }],
    ]);
    await again.delete(5, 0);
    expect((await UserKeyTable.open(file)).entries()).toEqual([[DOMID.DOMID_XEN, { key: kx, role: 'hypervisor' }]]);
    expect(await readdir(tmp.path)).toEqual(['a.json']);
  });

  it('refuses bad entries (EINVAL) and a damaged file (EIO) rather than starting empty', async () => {
    const file = join(tmp.path, 'b.json');
    const t = await UserKeyTable.open(file);
    await t.set(7, { key: userKey(), role: 'driver' });
    await expect(t.set(7, { key: 'not-a-key', role: 'guest' })).rejects.toMatchObject({
      kind: 'EINVAL',
      message: '"not-a-key" is not a NATS user public key',
    });
    await expect(t.set(DOMID.DOMID_SELF, { key: userKey(), role: 'guest' })).rejects.toMatchObject({
      kind: 'EINVAL',
    });
    expect(t.get(7)?.role).toBe('driver');

    const text = await readFile(file, 'utf8');
    for (const [bad, why] of [
      [text.slice(0, 20), /not valid JSON/],
      [text.replace('"version": 1', '"version": 2'), /format version 2, expected 1/],
      [text.replace('"7"', '"x7"'), /entry "x7" is not a domid/],
      [text.replace('"driver"', '"root"'), /domain 7: role root/],
      [text.replace(/"U[A-Z2-7]+"/, '"UABC"'), /domain 7: "UABC" is not a NATS user public key/],
    ] as const) {
      await writeFile(file, bad);
      await expect(UserKeyTable.open(file)).rejects.toMatchObject({ kind: 'EIO', message: expect.stringMatching(why) });
    }
  });
});

describe('revokeUserOffline', () => {
  const tmp = tempDir('revoke-offline-');
  afterAll(() => tmp.remove());

  it('records revocations in the stored account JWT (kept on reopen) and leaves other users alone', async () => {
    const dir = join(tmp.path, 'identity');
    const store = await IdentityStore.open(dir);
    const [a, b, other] = [userKey(), userKey(), userKey()];
    await revokeUserOffline(store, [a, b], { at: 1_800_000_000 });
    const reopened = await IdentityStore.open(dir);
    expect(revocationsOf(reopened.account.jwt)).toEqual({ [a]: 1_800_000_000, [b]: 1_800_000_000 });
    expect(revocationsOf(reopened.account.jwt)[other]).toBeUndefined();
    await expect(revokeUserOffline(store, ['nope'])).rejects.toMatchObject({ kind: 'EINVAL' });
  });
});
