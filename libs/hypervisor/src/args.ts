// Reads a hypercall's JSON arguments, refusing anything malformed with EINVAL naming the op and field:
// a bad request fails that request only.
import { HypervisorError } from './errors.js';

type Json = Record<string, unknown>;

export class ArgReader {
  private readonly o: Json;
  private readonly seen = new Set<string>();

  constructor(
    private readonly op: string,
    body: unknown,
  ) {
    if (body === undefined || body === null) this.o = {};
    else if (typeof body === 'object' && !Array.isArray(body)) this.o = body as Json;
    else throw this.bad(`arguments must be a JSON object, got ${describe(body)}`);
  }

  int(key: string, min: number, max: number): number {
    const v = this.take(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw this.bad(`${key} must be an integer in ${min}..${max}, got ${describe(v)}`);
    return v;
  }

  optInt(key: string, min: number, max: number): number | undefined {
    return this.o[key] === undefined ? this.skip(key) : this.int(key, min, max);
  }

  num(key: string, min: number, max: number): number {
    const v = this.take(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw this.bad(`${key} must be a number in ${min}..${max}, got ${describe(v)}`);
    return v;
  }

  str(key: string, check?: (s: string) => string | undefined): string {
    const v = this.take(key);
    if (typeof v !== 'string') throw this.bad(`${key} must be a string, got ${describe(v)}`);
    const why = check?.(v);
    if (why) throw this.bad(`${key} ${JSON.stringify(v)} ${why}`);
    return v;
  }

  optStr(key: string, check?: (s: string) => string | undefined): string | undefined {
    return this.o[key] === undefined ? this.skip(key) : this.str(key, check);
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.take(key);
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      throw this.bad(`${key} must be one of ${values.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  optOneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    return this.o[key] === undefined ? this.skip(key) : this.oneOf(key, values);
  }

  optBool(key: string): boolean | undefined {
    if (this.o[key] === undefined) return this.skip(key);
    const v = this.take(key);
    if (typeof v !== 'boolean') throw this.bad(`${key} must be true or false, got ${describe(v)}`);
    return v;
  }

  /** Refuses fields the op does not know (a misspelt field must not be silently ignored). */
  done(): void {
    for (const k of Object.keys(this.o)) if (!this.seen.has(k)) throw this.bad(`unknown argument ${JSON.stringify(k)}`);
  }

  private take(key: string): unknown {
    this.seen.add(key);
    return this.o[key];
  }

  private skip(key: string): undefined {
    this.seen.add(key);
    return undefined;
  }

  private bad(msg: string): HypervisorError {
    return new HypervisorError('EINVAL', `${this.op}: ${msg}`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
