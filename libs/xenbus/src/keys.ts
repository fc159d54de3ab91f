// Keys every split device has, whatever its kind (io/xenbus.h, libxl_device.c; xen-facts §2, §5), and the
// paths derived from them.
import { XenbusState, xenbusStateName, type XenbusStateValue } from '@dominion/abi';

export const XENBUS_KEYS = {
  /** Each end writes only its own. */
  STATE: 'state',
  /** Backend dir: the frontend dir's path and domain, written by the toolstack. */
  FRONTEND: 'frontend',
  FRONTEND_ID: 'frontend-id',
  /** Frontend dir: the backend dir's path and domain, written by the toolstack. */
  BACKEND: 'backend',
  BACKEND_ID: 'backend-id',
  /** Backend dir: 1 keeps the backend across a frontend Closed (reconnectable); 0 means being removed. */
  ONLINE: 'online',
  /** Generic transport keys a frontend writes (blkif and netif alike). */
  RING_REF: 'ring-ref',
  RING_PAGE_ORDER: 'ring-page-order',
  EVENT_CHANNEL: 'event-channel',
  PROTOCOL: 'protocol',
  MULTI_QUEUE_NUM_QUEUES: 'multi-queue-num-queues',
} as const;

/** `queue-<q>`: a queue's directory once multi-queue-num-queues >= 2. */
export const queueKey = (q: number): string => `queue-${q}`;
/** `ring-ref<i>`: page i of a ring of 2^ring-page-order pages. */
export const ringRefKey = (i: number): string => `ring-ref${i}`;

/** `InitWait(2)`, for log lines and errors. */
export function stateName(s: number): string {
  return `${(xenbusStateName(s) ?? 'XenbusStateUnknown').replace(/^XenbusState/, '')}(${s})`;
}

export const S = {
  Unknown: XenbusState.XenbusStateUnknown,
  Initialising: XenbusState.XenbusStateInitialising,
  InitWait: XenbusState.XenbusStateInitWait,
  Initialised: XenbusState.XenbusStateInitialised,
  Connected: XenbusState.XenbusStateConnected,
  Closing: XenbusState.XenbusStateClosing,
  Closed: XenbusState.XenbusStateClosed,
} as const satisfies Record<string, XenbusStateValue>;

/**
 * Where xenbus_dev_error() reports a device's error: `<home>/error/<device path below home>/error`, e.g.
 * /local/domain/1/error/backend/vbd/5/51712/error for the backend dir /local/domain/1/backend/vbd/5/51712.
 */
export function errorPath(devicePath: string): string {
  const m = /^(\/local\/domain\/[0-9]+)\/(.+)$/.exec(devicePath);
  return m ? `${m[1]}/error/${m[2]}/error` : `${devicePath}/error`;
}

/** `<fe>/<devid>` of /local/domain/<be>/backend/<type>/<fe>/<devid>, for log lines. */
export function deviceLabel(path: string): string {
  return path.split('/').slice(-2).join('/');
}
