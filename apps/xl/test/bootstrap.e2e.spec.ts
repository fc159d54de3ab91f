// The bootstrap exchange end to end, in operator mode (ARCHITECTURE §1, issue 3): `xl bootstrap-issue`
// registers a config and prints a one-time secret; a guest service started outside dom0's launcher (as
// compose would start it: the built apps/guest with only its name, its secret and the shared bootstrap
// user's credentials) presents them on `xen.bootstrap` and becomes that domain, seen by xl list and
// honouring xl shutdown. A wrong, unknown or used secret is refused beside the right one working.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@dominion/bus';
import {
  BOOTSTRAP_INBOX_PREFIX,
  BOOTSTRAP_SUBJECT,
  bootstrapKey,
  IdentityStore,
  mintBootstrapUser,
  writeCredsFile,
} from '@dominion/identity';
import { waitFor } from '@dominion/testing';
import { repo, startDominion, type Dominion, type Run } from './dominion-e2e.js';

const guestMain = join(repo, 'apps', 'guest', 'dist', 'main.js');

describe('bootstrap: a service started outside dom0 becomes its domain (end to end)', () => {
  let dominion: Dominion;
  let url: string;
  let bootCredsFile: string;
  let boot: NatsConnection;
  const children: ChildProcess[] = [];
  const xl = (...args: string[]): Promise<Run> => dominion.xl(...args);
  /** One exchange as the bootstrap user, the way a service makes it. */
  const present = (name: string, secret: string): Promise<unknown> =>
    busRequest(boot, BOOTSTRAP_SUBJECT, bootstrapKey(name, secret).request, { timeoutMs: 10000 });
  const listed = (out: string, name: string): { id: number; state: string } | undefined => {
    const m = new RegExp(`^${name} +(\\d+) +\\d+ +\\d+ +([r-][b-][p-][s-][-rscwS][d-]) `, 'm').exec(out);
    return m ? { id: Number(m[1]), state: m[2] } : undefined;
  };

  beforeAll(async () => {
    dominion = await startDominion('dominion-xl-bootstrap-');
    url = (JSON.parse(readFileSync(join(dominion.home.path, 'bus.json'), 'utf8')) as { url: string }).url;
    // what the set-up hands compose: the shared, low-privilege bootstrap user
    const store = await IdentityStore.open(join(dominion.home.path, 'identity'));
    const user = await mintBootstrapUser(store.account);
    bootCredsFile = join(dominion.home.path, 'bootstrap.creds');
    await writeCredsFile(bootCredsFile, user.creds);
    boot = await connect({
      servers: url,
      authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
      inboxPrefix: BOOTSTRAP_INBOX_PREFIX,
    });
  }, 30000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await boot?.close();
    expect(await dominion?.stop()).toBe(0);
  });

  it('xl bootstrap-issue prints a secret; the service presenting it gets its domid and credentials; used or wrong secrets are refused', async () => {
    const cfg = join(dominion.home.path, 'svc.cfg');
    writeFileSync(cfg, 'name = "svc"\nkernel = "builtin:minios"\nmemory = 24\n');
    const issued = await xl('bootstrap-issue', cfg);
    expect(issued).toMatchObject({ code: 0, stderr: `Parsing config from ${cfg}\n` });
    expect(issued.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    const secret = issued.stdout.trim();

    // refused: a wrong secret, a name with no config; nothing is created
    await expect(present('svc', `${secret}x`)).rejects.toMatchObject({
      kind: 'EACCES',
      message: 'bootstrap: wrong secret for domain svc',
    });
    await expect(present('nobody', secret)).rejects.toMatchObject({
      kind: 'EACCES',
      message: 'bootstrap: no config is registered for domain nobody',
    });
    expect(listed((await xl('list')).stdout, 'svc')).toBeUndefined();

    // the right one: a guest process with no domid, started as compose would
    let log = '';
    const svc = spawn(process.execPath, [guestMain], {
      env: {
        PATH: process.env.PATH ?? '',
        DOMINION_NATS_URL: url,
        DOMINION_BOOTSTRAP_NAME: 'svc',
        DOMINION_BOOTSTRAP_SECRET: secret,
        DOMINION_BOOTSTRAP_CREDS: bootCredsFile,
        DOMINION_STATE_DIR: join(dominion.home.path, 'svc-state'),
        DOMINION_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(svc);
    svc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    svc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => svc.once('exit', (code) => r(code)));
    let row: { id: number; state: string } | undefined;
    await waitFor(
      async () => {
        row = listed((await xl('list')).stdout, 'svc');
        return row !== undefined && row.state[2] === '-';
      },
      20000,
      `svc to be up and unpaused:\n${log}`,
    );
    expect(row!.state).toMatch(/^[r-][b-]-{4}$/);
    const info = await dominion.hv.getDomainInfo(row!.id);
    expect(info).toMatchObject({ name: 'svc', target_memkb: 24 * 1024 });
    // it heartbeats with the credentials minted for its own key, and holds a domid-scoped .creds file
    expect(info.last_heartbeat).toBeDefined();
    expect(readFileSync(join(dominion.home.path, 'svc-state', `domain-${row!.id}.creds`), 'utf8')).toMatch(
      /BEGIN NATS USER JWT/,
    );

    // a second service presenting the same name: refused before the (used) secret is even looked at
    await expect(present('svc', secret)).rejects.toMatchObject({
      kind: 'EEXIST',
      message: `bootstrap: domain svc exists already (domain ${row!.id})`,
    });
    // xl shutdown reaches it through its own XenStore watch; on_poweroff=destroy removes it, it exits 0
    expect(await xl('shutdown', '-w', 'svc')).toMatchObject({ code: 0 });
    expect(await exited).toBe(0);
    await expect(dominion.hv.getDomainInfo(row!.id)).rejects.toMatchObject({ kind: 'ESRCH' });
    // the name is free again, the secret is not
    await expect(present('svc', secret)).rejects.toMatchObject({
      kind: 'EACCES',
      message: 'bootstrap: the secret for domain svc was already used',
    });
    expect(listed((await xl('list')).stdout, 'svc')).toBeUndefined();
  }, 60000);

  it('xl bootstrap-issue of a bad config: the parser’s message, nothing registered', async () => {
    const cfg = join(dominion.home.path, 'bad.cfg');
    writeFileSync(cfg, 'name = "bad"\nmemory = \n');
    const r = await xl('bootstrap-issue', cfg);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(`^Parsing config from ${cfg}\\n${cfg}:2:10: config parsing error near <newline>`),
    );
    await expect(present('bad', 'whatever-secret-1234')).rejects.toMatchObject({ kind: 'EACCES' });
  });
});
