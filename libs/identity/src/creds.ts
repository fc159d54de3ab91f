// Handing credentials to a domain's service: a 0600 .creds file and the environment libs/runtime reads
// (DOMINION_NATS_CREDS, DOMINION_NATS_INBOX_PREFIX). The creds text is never logged.
import { IdentityError } from './errors.js';
import { writeSecretFile } from './secret-file.js';

export function writeCredsFile(path: string, creds: string): Promise<void> {
  return writeSecretFile(path, creds);
}

/** The variables that make libs/runtime's connectBus log in as the domain. */
export function credentialsEnv(credsFile: string, inboxPrefix: string): Record<string, string> {
  return { DOMINION_NATS_CREDS: credsFile, DOMINION_NATS_INBOX_PREFIX: inboxPrefix };
}

/** The user nkey seed in a .creds file's text: what a frontend signs its ring proofs with. */
export function seedOfCreds(creds: string): string {
  const m = /-{3,}BEGIN USER NKEY SEED-{3,}\s*\n\s*(SU[A-Z2-7]+)\s*\n/.exec(creds);
  if (!m) throw new IdentityError('EINVAL', 'creds: no user nkey seed block');
  return m[1];
}
