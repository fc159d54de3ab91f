// Values of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md), named as the document names them.
// Every number is sent big-endian.

/** 'NBDMAGIC', the first 8 bytes the server sends (INIT_PASSWD). */
export const NBD_INIT_PASSWD = 0x4e42444d41474943n;
/** 'IHAVEOPT': second greeting word, and the prefix of every option the client sends. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Prefix of every option reply in fixed newstyle. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;
export const NBD_REQUEST_MAGIC = 0x25609513;
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (16 bits, server to client). */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;

/** Client flags (32 bits, client to server). */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

/** Transmission flags (16 bits). */
export const NBD_FLAG = {
  NBD_FLAG_HAS_FLAGS: 1 << 0,
  NBD_FLAG_READ_ONLY: 1 << 1,
  NBD_FLAG_SEND_FLUSH: 1 << 2,
  NBD_FLAG_SEND_FUA: 1 << 3,
  NBD_FLAG_ROTATIONAL: 1 << 4,
  NBD_FLAG_SEND_TRIM: 1 << 5,
  NBD_FLAG_SEND_WRITE_ZEROES: 1 << 6,
  NBD_FLAG_SEND_DF: 1 << 7,
  NBD_FLAG_CAN_MULTI_CONN: 1 << 8,
  NBD_FLAG_SEND_RESIZE: 1 << 9,
  NBD_FLAG_SEND_CACHE: 1 << 10,
  NBD_FLAG_SEND_FAST_ZERO: 1 << 11,
} as const;

/** Option types (NBD_OPT_*). */
export const NBD_OPT = {
  NBD_OPT_EXPORT_NAME: 1,
  NBD_OPT_ABORT: 2,
  NBD_OPT_LIST: 3,
  NBD_OPT_PEEK_EXPORT: 4,
  NBD_OPT_STARTTLS: 5,
  NBD_OPT_INFO: 6,
  NBD_OPT_GO: 7,
  NBD_OPT_STRUCTURED_REPLY: 8,
  NBD_OPT_LIST_META_CONTEXT: 9,
  NBD_OPT_SET_META_CONTEXT: 10,
  NBD_OPT_EXTENDED_HEADERS: 11,
} as const;

/** Option reply types (NBD_REP_*); errors have bit 31 set. */
export const NBD_REP = {
  NBD_REP_ACK: 1,
  NBD_REP_SERVER: 2,
  NBD_REP_INFO: 3,
  NBD_REP_META_CONTEXT: 4,
  NBD_REP_ERR_UNSUP: 0x80000001,
  NBD_REP_ERR_POLICY: 0x80000002,
  NBD_REP_ERR_INVALID: 0x80000003,
  NBD_REP_ERR_PLATFORM: 0x80000004,
  NBD_REP_ERR_TLS_REQD: 0x80000005,
  NBD_REP_ERR_UNKNOWN: 0x80000006,
  NBD_REP_ERR_SHUTDOWN: 0x80000007,
  NBD_REP_ERR_BLOCK_SIZE_REQD: 0x80000008,
  NBD_REP_ERR_TOO_BIG: 0x80000009,
} as const;

/** Information types in NBD_REP_INFO (16 bits). */
export const NBD_INFO = {
  NBD_INFO_EXPORT: 0,
  NBD_INFO_NAME: 1,
  NBD_INFO_DESCRIPTION: 2,
  NBD_INFO_BLOCK_SIZE: 3,
} as const;

/** Request types (NBD_CMD_*). */
export const NBD_CMD = {
  NBD_CMD_READ: 0,
  NBD_CMD_WRITE: 1,
  NBD_CMD_DISC: 2,
  NBD_CMD_FLUSH: 3,
  NBD_CMD_TRIM: 4,
  NBD_CMD_CACHE: 5,
  NBD_CMD_WRITE_ZEROES: 6,
  NBD_CMD_BLOCK_STATUS: 7,
  NBD_CMD_RESIZE: 8,
} as const;

const CMD_NAMES = new Map<number, string>(Object.entries(NBD_CMD).map(([k, v]) => [v, k]));
/** `NBD_CMD_READ` for 0, for messages. */
export function nbdCmdName(type: number): string {
  return CMD_NAMES.get(type) ?? `NBD_CMD(${type})`;
}

const OPT_NAMES = new Map<number, string>(Object.entries(NBD_OPT).map(([k, v]) => [v, k]));
/** `NBD_OPT_GO` for 7, for messages. */
export function nbdOptName(option: number): string {
  return OPT_NAMES.get(option) ?? `NBD_OPT(${option})`;
}

/** Command flags (16 bits). */
export const NBD_CMD_FLAG = {
  NBD_CMD_FLAG_FUA: 1 << 0,
  NBD_CMD_FLAG_NO_HOLE: 1 << 1,
  NBD_CMD_FLAG_DF: 1 << 2,
  NBD_CMD_FLAG_REQ_ONE: 1 << 3,
  NBD_CMD_FLAG_FAST_ZERO: 1 << 4,
} as const;

/** Structured reply flags. */
export const NBD_REPLY_FLAG_DONE = 1 << 0;

/** Structured reply chunk types; error chunks have bit 15 set. */
export const NBD_REPLY_TYPE = {
  NBD_REPLY_TYPE_NONE: 0,
  NBD_REPLY_TYPE_OFFSET_DATA: 1,
  NBD_REPLY_TYPE_OFFSET_HOLE: 2,
  NBD_REPLY_TYPE_BLOCK_STATUS: 5,
  NBD_REPLY_TYPE_ERROR: 0x8001,
  NBD_REPLY_TYPE_ERROR_OFFSET: 0x8002,
} as const;

/** The error values of the reply `error` field: NBD's own closed set, not the host's errno. */
export const NBD_ERROR = {
  NBD_EPERM: 1,
  NBD_EIO: 5,
  NBD_ENOMEM: 12,
  NBD_EINVAL: 22,
  NBD_ENOSPC: 28,
  NBD_EOVERFLOW: 75,
  NBD_ENOTSUP: 95,
  NBD_ESHUTDOWN: 108,
} as const;
export type NbdErrorValue = (typeof NBD_ERROR)[keyof typeof NBD_ERROR];

/** `base:allocation` status flags. */
export const NBD_STATE_HOLE = 1 << 0;
export const NBD_STATE_ZERO = 1 << 1;
export const NBD_META_BASE_ALLOCATION = 'base:allocation';

/** Sizes of the fixed parts of messages. */
export const NBD_GREETING_SIZE = 18;
export const NBD_OPTION_HEADER_SIZE = 16;
export const NBD_REQUEST_HEADER_SIZE = 28;
export const NBD_SIMPLE_REPLY_SIZE = 16;
export const NBD_STRUCTURED_HEADER_SIZE = 20;
/** Zero padding after the NBD_OPT_EXPORT_NAME reply unless NO_ZEROES was agreed. */
export const NBD_EXPORT_NAME_ZEROES = 124;
/** proto.md's limit for strings (names, messages, context names). */
export const NBD_MAX_STRING = 4096;
/** The payload a server SHOULD accept and never treat as a denial of service (2^25). */
export const NBD_DEFAULT_MAX_PAYLOAD = 1 << 25;
