// The configs registered for the bootstrap exchange (ARCHITECTURE §1), in <stateDir>/bootstrap: one
// `<name>.cfg` per domain (the xl.cfg text as `xl bootstrap-issue` read it, written atomically with fsync)
// and `secrets.json`, libs/identity's BootstrapRegistry (digests only, a secret used once stays used).
// Issuing a secret for a name replaces its config and any earlier secret.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BusError } from '@dominion/bus';
import { BootstrapRegistry } from '@dominion/identity';

/** A name that is also a safe file name: xl's usual names (letters, digits, `_`, `-`, `.`), no leading dot. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

export function checkBootstrapName(name: string): void {
  if (!NAME.test(name))
    throw new BusError(
      'EINVAL',
      `bootstrap: domain name ${JSON.stringify(name)} is not 1..64 of [A-Za-z0-9_.-] (not starting with a dot)`,
    );
}

export class BootstrapConfigs {
  private registry?: Promise<BootstrapRegistry>;

  constructor(readonly dir: string) {}

  private secrets(): Promise<BootstrapRegistry> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.registry ??= BootstrapRegistry.open(join(this.dir, 'secrets.json'));
    return this.registry;
  }

  /** Registers `config` (already checked by the caller) for `name`; the new one-time secret. */
  async issue(name: string, config: string): Promise<string> {
    checkBootstrapName(name);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${name}.cfg`);
    const fd = openSync(`${file}.tmp`, 'w', 0o600);
    try {
      writeSync(fd, config);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${file}.tmp`, file);
    return (await this.secrets()).issue(name);
  }

  /** The config registered for `name`; EACCES when there is none (as for an unknown secret). */
  config(name: string): { text: string; source: string } {
    checkBootstrapName(name);
    const source = join(this.dir, `${name}.cfg`);
    try {
      return { text: readFileSync(source, 'utf8'), source };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new BusError('EACCES', `bootstrap: no config is registered for domain ${name}`);
    }
  }

  /** Accepts the secret once (EACCES: unknown, wrong or used), durably. */
  async redeem(name: string, secret: string): Promise<void> {
    await (await this.secrets()).redeem(name, secret);
  }
}
