// dom0's end of the bootstrap exchange on `xen.bootstrap` (ARCHITECTURE §1, libs/identity bootstrap.ts): a
// service started outside dom0's launcher asks, as the shared bootstrap user, with reply subject in
// `_INBOX.boot.`. Only such requests are run and answered: any other reply subject would let the asker steer
// dom0's answer onto another subject (dom0 answers only into inboxes). Answers are JSON, errors the bus's
// Xen-Errno header with the message as the body, as every Dominion service answers.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeJson, encodeJson, errnoOf, errorHeaders } from '@dominion/bus';
import { BOOTSTRAP_INBOX_PREFIX, BOOTSTRAP_SUBJECT } from '@dominion/identity';
import type { Logger } from '@dominion/runtime';

export function serveBootstrap(
  nc: NatsConnection,
  handler: (body: unknown) => Promise<unknown>,
  log: Logger,
): Subscription {
  return nc.subscribe(BOOTSTRAP_SUBJECT, {
    callback: (err, m) => {
      if (err) return;
      void answer(m, handler, log);
    },
  });
}

async function answer(m: Msg, handler: (body: unknown) => Promise<unknown>, log: Logger): Promise<void> {
  if (!m.reply?.startsWith(`${BOOTSTRAP_INBOX_PREFIX}.`)) {
    log.warn(`bootstrap: request with reply subject ${JSON.stringify(m.reply ?? '')} dropped (not a bootstrap inbox)`);
    return;
  }
  try {
    m.respond(encodeJson(await handler(decodeJson(m.data, BOOTSTRAP_SUBJECT))));
  } catch (e) {
    if (errnoOf(e) === 'EIO') log.warn({ err: e }, 'bootstrap: a request failed');
    else log.info(`bootstrap: refused: ${(e as Error).message}`);
    const { hdrs, body } = errorHeaders(e);
    m.respond(body, { headers: hdrs });
  }
}
