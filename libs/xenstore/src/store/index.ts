// The XenStore engine (xenstored's semantics, no I/O) and what its transports and persistence need.
export { XenstoreEngine, XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN, type XsEngineOptions } from './engine.js';
export type { Outcome, XsConnection, XsReply } from './connection.js';
export type { WatchFire } from './events.js';
export type { JournalRecord, XsJournalOp } from './journal.js';

export { XS_QUOTA_DEFAULTS, XS_QUOTA_NAMES, nodeSize, type XsQuota } from './quota.js';
export { XS_STATE_FORMAT, XS_STATE_VERSION, type XsStateV1 } from './state.js';
export { domainPath } from './path.js';
