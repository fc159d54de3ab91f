// XenStore over NATS (apps/dom0/README.md). The body of a request and of its reply is one whole xs_wire
// message; what a socket connection gives xenstored for free (who owns watches and transactions) is a
// session named by a header, because a message bus has no connections.

/** `Xs-Session: <id>`: the session a request runs in, scoped to the caller's domid. */
export const XS_SESSION_HEADER = 'Xs-Session';
export const XS_SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Set on the reply to the request that opened its session (the first one, or the first after a loss). */
export const XS_SESSION_OPENED_HEADER = 'Xs-Session-Opened';

/** Why the transport refused a request; the xs_wire payload of an error can hold only the errno name. */
export const XS_ERROR_MESSAGE_HEADER = 'Xs-Error-Message';

/**
 * Dominion's XS_CONTROL commands, answered by the NATS transport itself: `session-close\0` ends the
 * session (its watches and open transactions go with it); `session-keepalive\0` only renews its lease.
 */
export const XS_CONTROL_SESSION_CLOSE = 'session-close';
export const XS_CONTROL_SESSION_KEEPALIVE = 'session-keepalive';

/** A session that sees no request for this long is closed; clients renew it well before. */
export const XS_SESSION_LEASE_MS = 60_000;
export const XS_SESSION_KEEPALIVE_MS = 10_000;
