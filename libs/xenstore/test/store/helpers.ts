// Test vocabulary in the style of ocaml-xenstore's server tests: a request is written out by hand as the
// bytes libxenstore sends (NUL-terminated fields), and a step is [connection, tx, request, expected reply].
// Replies are shown as text: the payload with each NUL as `|` (`OK|`, `a|b|`), or `E:<name>` for XS_ERROR.
import { expect } from '@jest/globals';
import { XS } from '@dominion/abi';
import type { Outcome, XsConnection } from '../../src/store/index.js';

export interface Req {
  type: number;
  payload: Buffer;
}

const fields = (...f: string[]): Buffer => Buffer.from(f.map((x) => `${x}\0`).join(''), 'latin1');

export const read = (p: string): Req => ({ type: XS.XS_READ, payload: fields(p) });
export const write = (p: string, v: string | Buffer): Req => ({
  type: XS.XS_WRITE,
  payload: Buffer.concat([Buffer.from(`${p}\0`, 'latin1'), typeof v === 'string' ? Buffer.from(v, 'latin1') : v]),
});
export const mkdir = (p: string): Req => ({ type: XS.XS_MKDIR, payload: fields(p) });
export const rm = (p: string): Req => ({ type: XS.XS_RM, payload: fields(p) });
export const dir = (p: string): Req => ({ type: XS.XS_DIRECTORY, payload: fields(p) });
export const dirPart = (p: string, off: number | string): Req => ({
  type: XS.XS_DIRECTORY_PART,
  payload: fields(p, String(off)),
});
export const getPerms = (p: string): Req => ({ type: XS.XS_GET_PERMS, payload: fields(p) });
export const setPerms = (p: string, ...perms: string[]): Req => ({
  type: XS.XS_SET_PERMS,
  payload: fields(p, ...perms),
});
export const watch = (p: string, token: string, depth?: number): Req => ({
  type: XS.XS_WATCH,
  payload: depth === undefined ? fields(p, token) : fields(p, token, String(depth)),
});
export const unwatch = (p: string, token: string): Req => ({ type: XS.XS_UNWATCH, payload: fields(p, token) });
export const txStart = (): Req => ({ type: XS.XS_TRANSACTION_START, payload: fields('') });
export const txEnd = (commit: boolean): Req => ({ type: XS.XS_TRANSACTION_END, payload: fields(commit ? 'T' : 'F') });
export const introduce = (domid: number, gfn = 0x1234, port = 1): Req => ({
  type: XS.XS_INTRODUCE,
  payload: fields(String(domid), String(gfn), String(port)),
});
export const release = (domid: number): Req => ({ type: XS.XS_RELEASE, payload: fields(String(domid)) });
export const getDomainPath = (domid: number | string): Req => ({
  type: XS.XS_GET_DOMAIN_PATH,
  payload: fields(String(domid)),
});
export const isIntroduced = (domid: number): Req => ({
  type: XS.XS_IS_DOMAIN_INTRODUCED,
  payload: fields(String(domid)),
});
export const resetWatches = (): Req => ({ type: XS.XS_RESET_WATCHES, payload: fields('') });
export const control = (...f: string[]): Req => ({ type: XS.XS_CONTROL, payload: fields(...f) });
export const getQuota = (...f: string[]): Req => ({ type: XS.XS_GET_QUOTA, payload: fields(...f) });
export const setQuota = (...f: string[]): Req => ({ type: XS.XS_SET_QUOTA, payload: fields(...f) });
export const raw = (type: number, payload: Buffer | string): Req => ({
  type,
  payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload,
});

/** `OK|`, `a|b|`, `E:ENOENT`; a reply whose type is neither the request's nor ERROR shows as `?<type>`. */
export function show(o: Outcome, req: Req): string {
  if (o.reply.type === XS.XS_ERROR) return `E:${o.reply.payload.toString('latin1').replace(/\0$/, '')}`;
  if (o.reply.type !== req.type) return `?${o.reply.type}`;
  return o.reply.payload.toString('latin1').replaceAll('\0', '|');
}

export function call(c: XsConnection, req: Req, tx = 0): Outcome {
  return c.handle(req.type, tx, req.payload);
}

export type Step = [c: XsConnection, tx: number, req: Req, expected: string];

/** Runs the steps in order; a wrong reply fails naming the step. */
export function run(steps: Step[]): Outcome[] {
  return steps.map(([c, tx, req, want], step) => {
    const o = call(c, req, tx);
    expect({ step, reply: show(o, req) }).toEqual({ step, reply: want });
    return o;
  });
}

/** Starts a transaction and returns its id. */
export function begin(c: XsConnection): number {
  const o = call(c, txStart());
  const s = show(o, txStart());
  expect(s).toMatch(/^[1-9][0-9]*\|$/);
  return Number(s.slice(0, -1));
}

/** Events of an outcome for one connection, as `path token`. */
export function eventsFor(o: Outcome | Outcome[], c: XsConnection): string[] {
  const all = Array.isArray(o) ? o.flatMap((x) => x.events) : o.events;
  return all.filter((e) => e.connId === c.id).map((e) => `${e.path} ${e.token}`);
}
