// BootstrapSecrets kept on disk by the service that redeems them (dom0): a secret marked used stays used
// across a restart, so it can be redeemed once in the registry's whole life. Hashes only, in a 0600 file
// replaced atomically; a damaged file is refused (EIO), never started afresh.
import { readFile } from 'node:fs/promises';
import { BootstrapSecrets, type BootstrapSecretsState } from './bootstrap-secrets.js';
import { IdentityError } from './errors.js';
import { writeSecretFile } from './secret-file.js';

export class BootstrapRegistry {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly secrets: BootstrapSecrets,
  ) {}

  /** Loads `file`; an absent file is an empty registry. */
  static async open(file: string): Promise<BootstrapRegistry> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new BootstrapRegistry(file, new BootstrapSecrets());
      throw new IdentityError('EIO', `${file}: ${(e as Error).message}`);
    }
    let state: BootstrapSecretsState;
    try {
      state = JSON.parse(text) as BootstrapSecretsState;
      return new BootstrapRegistry(file, BootstrapSecrets.fromJSON(state));
    } catch (e) {
      throw new IdentityError('EIO', `${file}: ${(e as Error).message}`);
    }
  }

  /** A fresh secret for `name`, durable before it is returned. */
  async issue(name: string): Promise<string> {
    const secret = this.secrets.issue(name);
    await this.persist();
    return secret;
  }

  /** A secret chosen elsewhere (compose's environment), durable when this resolves. */
  async register(name: string, secret: string): Promise<void> {
    this.secrets.register(name, secret);
    await this.persist();
  }

  /**
   * Accepts `secret` for `name` once (EACCES otherwise). It is marked used at once, before the file is
   * written, so a concurrent second attempt fails even while the first is being persisted.
   */
  async redeem(name: string, secret: string): Promise<void> {
    this.secrets.redeem(name, secret);
    await this.persist();
  }

  pending(name: string): boolean {
    return this.secrets.pending(name);
  }

  private persist(): Promise<void> {
    const run = (): Promise<void> => writeSecretFile(this.file, JSON.stringify(this.secrets.toJSON(), null, 2) + '\n');
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
