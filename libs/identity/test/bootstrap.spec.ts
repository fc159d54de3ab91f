// The bootstrap exchange's pure parts and dom0's persisted registry, on real files. The exchange itself runs
// against a real server in apps/hypervisor/test/bootstrap.e2e.spec.ts.
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@dominion/testing';
import {
  BootstrapRegistry,
  bootstrapKey,
  bootstrapPermissions,
  createIdentity,
  credsFromBootstrapReply,
  issueUserJwt,
  parseBootstrapRequest,
  seedOfCreds,
} from '../src/index.js';

describe('bootstrap request and reply', () => {
  it('the bootstrap user may publish the request and read bootstrap inboxes, nothing else', () => {
    expect(bootstrapPermissions()).toEqual({ pub: ['xen.bootstrap'], sub: ['_INBOX.boot.>'] });
  });

  it('parses a good request and names the bad field of any other', () => {
    const { request } = bootstrapKey('web', 'a-secret-of-some-length');
    expect(parseBootstrapRequest(JSON.parse(JSON.stringify(request)))).toEqual(request);
    for (const [body, why] of [
      [[], 'the body must be a JSON object'],
      [{ ...request, name: '' }, 'name must be a non-empty string'],
      [{ ...request, secret: 7 }, 'secret must be a non-empty string'],
      [{ ...request, user_key: 'SUABC' }, 'user_key: "SUABC" is not a NATS user public key'],
      [{ ...request, domid: 3 }, 'unknown field "domid"'],
    ] as const)
      expect(() => parseBootstrapRequest(body)).toThrow(
        expect.objectContaining({ kind: 'EINVAL', message: `bootstrap request: ${why}` }),
      );
  });

  it("builds the service's creds from the reply and its own seed only", async () => {
    const m = await createIdentity();
    const mine = bootstrapKey('web', 'a-secret-of-some-length');
    const { jwt } = await issueUserJwt(m.account, 7, 'guest', mine.request.user_key);
    const creds = credsFromBootstrapReply({ domid: 7, jwt, inbox_prefix: '_INBOX.dom7' }, mine.seed);
    expect(seedOfCreds(creds)).toBe(mine.seed);
    expect(creds).toContain(jwt);
    const thief = bootstrapKey('web', 'x');
    expect(() => credsFromBootstrapReply({ domid: 7, jwt, inbox_prefix: '_INBOX.dom7' }, thief.seed)).toThrow(
      expect.objectContaining({ kind: 'EACCES' }),
    );
    expect(() => credsFromBootstrapReply({ domid: 7, jwt: 'x.y', inbox_prefix: '' }, mine.seed)).toThrow(
      expect.objectContaining({ kind: 'EINVAL' }),
    );
  });
});

describe('BootstrapRegistry', () => {
  const tmp = tempDir('bootstrap-registry-');
  afterAll(() => tmp.remove());

  it('keeps hashes only, 0600, and a used secret stays used across a reopen', async () => {
    const file = join(tmp.path, 'secrets.json');
    const r = await BootstrapRegistry.open(file);
    const s = await r.issue('web');
    await r.register('db', 'a-secret-set-in-compose');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(s);
    expect(text).not.toContain('a-secret-set-in-compose');
    await r.redeem('web', s);
    const again = await BootstrapRegistry.open(file);
    await expect(again.redeem('web', s)).rejects.toMatchObject({ kind: 'EACCES' });
    expect(again.pending('db')).toBe(true);
    await again.redeem('db', 'a-secret-set-in-compose');
    expect((await BootstrapRegistry.open(file)).pending('db')).toBe(false);
  });

  it('refuses a damaged file (EIO) rather than forgetting which secrets were used', async () => {
    const file = join(tmp.path, 'damaged.json');
    await writeFile(file, '{"web": {"sha256": "zz", "used": true}}');
    await expect(BootstrapRegistry.open(file)).rejects.toMatchObject({ kind: 'EIO' });
    await writeFile(file, '{');
    await expect(BootstrapRegistry.open(file)).rejects.toMatchObject({ kind: 'EIO' });
  });
});
