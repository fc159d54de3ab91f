// A domain's console on the bus, as apps/guest serves it: output on `xen.console.<domid>.out`, input lines on
// `.in`, and the recent output (the ring) answered to a request on `.in` carrying the ring header (libs/bus).
import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { CONSOLE_OP_HEADER, CONSOLE_OP_RING, subjects } from '@dominion/bus';

const RING_TIMEOUT_MS = 3000;

export interface ConsoleSink {
  ring(text: string): void;
  output(text: string): void;
}

export interface ConsoleAttachment {
  send(text: string): Promise<void>;
  close(): void;
}

export type ConsoleLink = (domid: number, sink: ConsoleSink) => Promise<ConsoleAttachment>;

export function natsConsoleLink(nc: NatsConnection, inboxPrefix?: string): ConsoleLink {
  return async (domid, sink) => {
    // The guest answers the ring on the connection it publishes output on, so output that reaches us before
    // the answer is already in the ring and output after it is new: both callbacks run in arrival order.
    let ringSeen = false;
    let answered!: () => void;
    const gotRing = new Promise<void>((r) => (answered = r));
    const out = nc.subscribe(subjects.console(domid, 'out'), {
      callback: (err, m) => {
        if (!err && ringSeen) sink.output(m.string());
      },
    });
    const inbox = createInbox(inboxPrefix);
    const reply = nc.subscribe(inbox, {
      max: 1,
      callback: (err, m) => {
        if (err) return;
        ringSeen = true;
        sink.ring(m.string());
        answered();
      },
    });
    await nc.flush();
    const h = headers();
    h.set(CONSOLE_OP_HEADER, CONSOLE_OP_RING);
    nc.publish(subjects.console(domid, 'in'), '', { headers: h, reply: inbox });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the console of domain ${domid} did not answer within ${RING_TIMEOUT_MS} ms`)),
        RING_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([gotRing, timedOut]);
    } catch (e) {
      out.unsubscribe();
      reply.unsubscribe();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return {
      send: async (text) => {
        nc.publish(subjects.console(domid, 'in'), text);
        await nc.flush();
      },
      close: () => out.unsubscribe(),
    };
  };
}
