import { XS, type XsType } from '@dominion/abi';
import { parseErrorReply, xsRequest, type XsMessage, type XsRequest } from '../../src/wire/index.js';
import type { XsSession } from '../../src/xenstored/index.js';

let nextReq = 1;

export function msg(r: XsRequest, txId = 0): XsMessage {
  return { type: r.type, reqId: nextReq++, txId, payload: r.payload };
}

/** Submits and collects the reply (or the error name) through the session. */
export async function call(s: XsSession, r: XsRequest, txId = 0): Promise<string> {
  const reply = await s.request(msg(r, txId));
  return show(reply, r.type);
}

export function show(reply: XsMessage, type?: XsType): string {
  if (reply.type === XS.XS_ERROR) return `error ${parseErrorReply(reply)}`;
  if (type !== undefined && reply.type !== type) return `unexpected type ${reply.type}`;
  return reply.payload.toString('utf8');
}

export const req = xsRequest;
