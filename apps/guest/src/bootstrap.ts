// The service's end of the bootstrap exchange (ARCHITECTURE §1): a guest that compose or Kubernetes starts
// has no domid yet, only its domain name, a one-time secret and the shared bootstrap user's credentials.
// It makes its own user key, presents name + secret + public key on `xen.bootstrap` as the bootstrap user,
// and gets its domid and the JWT the hypervisor issued for that key; the seed never leaves this process.
// The result becomes the environment every launched guest gets (DOMINION_DOMID, DOMINION_NATS_CREDS, ...),
// so the rest of the guest runs unchanged.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { busRequest } from '@dominion/bus';
import {
  BOOTSTRAP_INBOX_PREFIX,
  BOOTSTRAP_SUBJECT,
  bootstrapKey,
  credsFromBootstrapReply,
  writeCredsFile,
  type BootstrapReply,
} from '@dominion/identity';

type Env = Record<string, string | undefined>;

/** Bootstraps when DOMINION_BOOTSTRAP_NAME is set; otherwise leaves `env` as it is. */
export async function bootstrapFromEnv(env: Env = process.env): Promise<void> {
  const name = env.DOMINION_BOOTSTRAP_NAME;
  if (!name) return;
  const secret = env.DOMINION_BOOTSTRAP_SECRET;
  if (!secret) throw new Error('bootstrap: DOMINION_BOOTSTRAP_NAME is set but DOMINION_BOOTSTRAP_SECRET is not');
  const bootCreds = env.DOMINION_BOOTSTRAP_CREDS;
  const nc = await connect({
    servers: env.DOMINION_NATS_URL ?? 'nats://127.0.0.1:4222',
    inboxPrefix: BOOTSTRAP_INBOX_PREFIX,
    ...(bootCreds && {
      authenticator: credsAuthenticator(new TextEncoder().encode(await readFile(bootCreds, 'utf8'))),
    }),
  });
  let reply: BootstrapReply;
  const { seed, request } = bootstrapKey(name, secret);
  try {
    reply = await busRequest<BootstrapReply>(nc, BOOTSTRAP_SUBJECT, request, { timeoutMs: 30_000 });
  } finally {
    await nc.close();
  }
  // the secret is spent: nothing later in this process needs it
  delete env.DOMINION_BOOTSTRAP_SECRET;
  env.DOMINION_DOMID = String(reply.domid);
  env.DOMINION_DOMAIN_NAME = name;
  if (reply.jwt !== '') {
    const dir = env.DOMINION_STATE_DIR || join('var', 'guest');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `domain-${reply.domid}.creds`);
    await writeCredsFile(file, credsFromBootstrapReply(reply, seed));
    env.DOMINION_NATS_CREDS = file;
    env.DOMINION_NATS_INBOX_PREFIX = reply.inbox_prefix;
  }
}
