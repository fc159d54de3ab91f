// JSON request/reply over NATS with errors in headers. Used for hypercalls and the toolstack API; the hot
// paths (event channels, XenStore) use raw bytes instead.
import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { isXenErrno, type DomId } from '@dominion/abi';
import { BusError, errnoOf, messageOf, XEN_ERRNO_HEADER } from './errors.js';
import { callerOf, inboxPrefixOf } from './subjects.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface BusRequestOptions {
  timeoutMs?: number;
}

export function encodeJson(v: unknown): Uint8Array {
  return v === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(v));
}

export function decodeJson(data: Uint8Array, where: string): unknown {
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(dec.decode(data)) as unknown;
  } catch (e) {
    throw new BusError('EINVAL', `${where}: body is not valid JSON (${messageOf(e)})`);
  }
}

/** The error an error reply carries, or undefined for a success. */
export function errorOfReply(m: Pick<Msg, 'headers' | 'data'>, subject: string): BusError | undefined {
  const errno = m.headers?.get(XEN_ERRNO_HEADER);
  if (!errno) return undefined;
  const kind = isXenErrno(errno) ? errno : 'EIO';
  return new BusError(kind, dec.decode(m.data) || `${subject}: ${errno}`);
}

export function errorHeaders(e: unknown): { hdrs: MsgHdrs; body: Uint8Array } {
  const hdrs = natsHeaders();
  hdrs.set(XEN_ERRNO_HEADER, errnoOf(e));
  return { hdrs, body: enc.encode(messageOf(e)) };
}

/** Requests `subject` with a JSON body; resolves the JSON reply or throws the BusError the reply carries. */
export async function busRequest<T>(
  nc: NatsConnection,
  subject: string,
  body?: unknown,
  opts: BusRequestOptions = {},
): Promise<T> {
  let reply: Msg;
  try {
    reply = await nc.request(subject, encodeJson(body), { timeout: opts.timeoutMs ?? 5000 });
  } catch (e) {
    throw transportError(e, subject);
  }
  const err = errorOfReply(reply, subject);
  if (err) throw err;
  return decodeJson(reply.data, subject) as T;
}

/** Maps a NATS client failure (no responders, timeout, permission) onto an errno. */
export function transportError(e: unknown, subject: string): BusError {
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = messageOf(e);
  if (name === 'NoRespondersError' || /no responders/i.test(msg))
    return new BusError('ECONNREFUSED', `${subject}: no service is listening`);
  if (name === 'TimeoutError' || /timeout/i.test(msg))
    return new BusError('ETIMEDOUT', `${subject}: request timed out`);
  if (name === 'PermissionViolationError' || /permission/i.test(msg))
    return new BusError('EACCES', `${subject}: not permitted (${msg})`);
  return new BusError('EIO', `${subject}: ${msg}`);
}

/**
 * Whether a service may answer `caller` on `reply`. NATS lets a requester name any subject as its reply
 * subject, and a service's own rights cover other domains' subjects (watch events, port-state pushes), so an
 * answer goes only into the caller's own inbox. A server that authenticates nobody (auth off, debugging)
 * vouches for nothing, and its clients use the default `_INBOX.` prefix: there any inbox is accepted, still
 * never a non-inbox subject.
 */
export function replyAllowed(caller: DomId | undefined, reply: string | undefined, authRequired: boolean): boolean {
  if (typeof reply !== 'string' || /[\s*>]/.test(reply)) return false;
  if (caller !== undefined && reply.startsWith(`${inboxPrefixOf(caller)}.`)) return true;
  return !authRequired && reply.startsWith('_INBOX.');
}

/** Whether the server this connection is on requires authentication (then inboxes are per principal). */
export function serverRequiresAuth(nc: Pick<NatsConnection, 'info'>): boolean {
  return nc.info?.auth_required === true;
}

export interface ServeContext {
  subject: string;
  /** The caller's domid, from the subject (what NATS permissions vouch for). */
  caller: number;
  headers?: MsgHdrs;
}

export type BusHandler = (body: unknown, ctx: ServeContext) => unknown;

export interface BusServeOptions {
  queue?: string;
  /** Called for failures that are not the caller's fault (kind EIO), for logging. */
  onInternalError?: (e: unknown, subject: string) => void;
  /** A request dropped unrun and unanswered: its reply subject is not its caller's inbox. */
  onRefusedReply?: (caller: DomId | undefined, subject: string, reply: string) => void;
}

/**
 * Serves JSON requests on `subject` (wildcards allowed). A handler's thrown error travels back as headers; a
 * malformed request fails that request only.
 */
export function busServe(
  nc: NatsConnection,
  subject: string,
  handler: BusHandler,
  opts: BusServeOptions = {},
): Subscription {
  return nc.subscribe(subject, {
    queue: opts.queue,
    callback: (err, m) => {
      if (err) return;
      void answer(nc, m, handler, opts);
    },
  });
}

async function answer(nc: NatsConnection, m: Msg, handler: BusHandler, opts: BusServeOptions): Promise<void> {
  const caller = callerOf(m.subject);
  // Not run at all: a request whose answer would land outside the caller's inbox is an attempt to steer it.
  if (m.reply && !replyAllowed(caller, m.reply, serverRequiresAuth(nc))) {
    opts.onRefusedReply?.(caller, m.subject, m.reply);
    return;
  }
  try {
    if (caller === undefined) throw new BusError('EINVAL', `${m.subject}: subject carries no caller domid`);
    const body = decodeJson(m.data, m.subject);
    const result = await handler(body, { subject: m.subject, caller, headers: m.headers });
    if (m.reply) m.respond(encodeJson(result));
  } catch (e) {
    if (errnoOf(e) === 'EIO') opts.onInternalError?.(e, m.subject);
    if (m.reply) {
      const { hdrs, body } = errorHeaders(e);
      m.respond(body, { headers: hdrs });
    }
  }
}
