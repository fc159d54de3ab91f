// dom0's own privileged XenStore session inside xenstored, for the toolstack: plain requests, and a list of
// writes applied in ONE transaction (retried on EAGAIN, as libxl's transaction loop does).
import {
  parseDirectoryReply,
  parseErrorReply,
  parseGetPermsReply,
  parseTransactionStartReply,
  xsRequest,
  XenstoreError,
  type Xenstored,
  type XsMessage,
  type XsSession,
  type XenstoreErrorKind,
} from '@dominion/xenstore';
import type { XsNodePerms, XsOp, XsWrite } from '@dominion/toolstack';

type Req = { type: number; payload: Buffer | Uint8Array };

const TX_RETRIES = 10;

export class Dom0Xs {
  private readonly session: XsSession;
  private reqId = 0;

  constructor(xenstored: Xenstored) {
    this.session = xenstored.connect(0, { privileged: true });
  }

  close(): void {
    this.session.close();
  }

  private async send(what: string, req: Req, txId = 0): Promise<XsMessage> {
    const reply = await this.session.request({
      type: req.type,
      reqId: ++this.reqId,
      txId,
      payload: Buffer.from(req.payload),
    });
    const err = parseErrorReply(reply);
    if (err) throw new XenstoreError(err as XenstoreErrorKind, `${what}: ${err}`);
    return reply;
  }

  /** The value, or undefined when the node does not exist. */
  async read(path: string): Promise<string | undefined> {
    try {
      return (await this.send(`read ${path}`, xsRequest.read(path))).payload.toString('utf8');
    } catch (e) {
      if (e instanceof XenstoreError && e.kind === 'ENOENT') return undefined;
      throw e;
    }
  }

  async write(path: string, value: string): Promise<void> {
    await this.send(`write ${path}`, xsRequest.write(path, value));
  }

  /** Recursive; a node that is already gone is fine. */
  async rm(path: string): Promise<void> {
    try {
      await this.send(`rm ${path}`, xsRequest.rm(path));
    } catch (e) {
      if (!(e instanceof XenstoreError && e.kind === 'ENOENT')) throw e;
    }
  }

  /** The children's names; none when the node does not exist. */
  async directory(path: string): Promise<string[]> {
    try {
      return parseDirectoryReply((await this.send(`directory ${path}`, xsRequest.directory(path))).payload);
    } catch (e) {
      if (e instanceof XenstoreError && e.kind === 'ENOENT') return [];
      throw e;
    }
  }

  /** `path` and every node under it, with their perms (a node removed meanwhile is left out). */
  async treePerms(path: string): Promise<XsNodePerms[]> {
    let perms;
    try {
      perms = parseGetPermsReply((await this.send(`get_perms ${path}`, xsRequest.getPerms(path))).payload);
    } catch (e) {
      if (e instanceof XenstoreError && e.kind === 'ENOENT') return [];
      throw e;
    }
    const out: XsNodePerms[] = [{ path, perms }];
    for (const child of await this.directory(path)) out.push(...(await this.treePerms(`${path}/${child}`)));
    return out;
  }

  /** WRITE then SET_PERMS for each, all or nothing. */
  applyInTransaction(writes: readonly XsWrite[]): Promise<void> {
    return this.transaction(writes.map((w) => ({ op: 'write', ...w })));
  }

  /** The steps in one transaction, all or nothing (retried on EAGAIN); an `rm` of a node already gone is fine. */
  async transaction(ops: readonly XsOp[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const tx = parseTransactionStartReply(await this.send('transaction start', xsRequest.transactionStart()));
      try {
        for (const o of ops) {
          if (o.op === 'rm') {
            await this.send(`rm ${o.path}`, xsRequest.rm(o.path), tx).catch((e: unknown) => {
              if (!(e instanceof XenstoreError && e.kind === 'ENOENT')) throw e;
            });
            continue;
          }
          if (o.op === 'write') await this.send(`write ${o.path}`, xsRequest.write(o.path, o.value), tx);
          await this.send(`set_perms ${o.path}`, xsRequest.setPerms(o.path, o.perms), tx);
        }
      } catch (e) {
        await this.send('transaction abort', xsRequest.transactionEnd(false), tx).catch(() => undefined);
        throw e;
      }
      try {
        await this.send('transaction commit', xsRequest.transactionEnd(true), tx);
        return;
      } catch (e) {
        if (!(e instanceof XenstoreError && e.kind === 'EAGAIN') || attempt >= TX_RETRIES) throw e;
      }
    }
  }
}
