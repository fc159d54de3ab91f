// Typed reads of the keys the other end wrote, each failure a XenbusError naming the full path and what
// was wrong with the value, so that a bad frontend is reported as blkback would (xenbus_dev_fatal).
import { XenbusError } from './errors.js';
import type { XenbusTx } from './store.js';

export interface UintRange {
  min?: number;
  /** Default 0xffffffff (Xen reads these keys with %u). */
  max?: number;
}

const DECIMAL = /^[0-9]{1,10}$/;

export class XenbusKeyReader {
  constructor(
    private readonly store: Pick<XenbusTx, 'tryRead'>,
    /** The directory keys are relative to. */
    readonly dir: string,
  ) {}

  path(key: string): string {
    return `${this.dir}/${key}`;
  }

  /** The reader of a subdirectory (`queue-1`). */
  sub(key: string): XenbusKeyReader {
    return new XenbusKeyReader(this.store, this.path(key));
  }

  async optString(key: string): Promise<string | undefined> {
    return this.store.tryRead(this.path(key));
  }

  async string(key: string): Promise<string> {
    const v = await this.optString(key);
    if (v === undefined) throw new XenbusError('ENOENT', `${this.path(key)}: missing`);
    return v;
  }

  /** A decimal unsigned integer within `range`; absent reads as undefined. */
  async optUint(key: string, range: UintRange = {}): Promise<number | undefined> {
    const v = await this.optString(key);
    return v === undefined ? undefined : this.parseUint(key, v, range);
  }

  async uint(key: string, range: UintRange = {}): Promise<number> {
    return this.parseUint(key, await this.string(key), range);
  }

  /** One of `allowed`; absent reads as undefined. */
  async optOneOf<T extends string>(key: string, allowed: readonly T[]): Promise<T | undefined> {
    const v = await this.optString(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new XenbusError('EINVAL', `${this.path(key)}: ${JSON.stringify(v)} is none of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  private parseUint(key: string, v: string, { min = 0, max = 0xffffffff }: UintRange): number {
    if (!DECIMAL.test(v)) {
      throw new XenbusError('EINVAL', `${this.path(key)}: ${JSON.stringify(v)} is not an unsigned decimal number`);
    }
    const n = Number(v);
    if (n < min || n > max) throw new XenbusError('EINVAL', `${this.path(key)}: ${n} is outside ${min}..${max}`);
    return n;
  }
}
