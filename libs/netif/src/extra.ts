// struct netif_extra_info: an 8-byte slot that follows a request or response flagged extra_info. In the
// 12-byte tx slot the last 4 bytes are unused.
import { XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE } from './constants.js';
import { NetifError } from './errors.js';
import { checkLength, checkU16, checkU8 } from './fields.js';
import { NETIF_EXTRA_INFO_SIZE } from './ring.js';

export type NetifExtraInfo =
  | { type: 'gso'; more: boolean; size: number; gsoType: number; features: number }
  | { type: 'mcast-add' | 'mcast-del'; more: boolean; addr: Uint8Array }
  | { type: 'hash'; more: boolean; hashType: number; algorithm: number; value: Uint8Array };

const T = XEN_NETIF_EXTRA_TYPE;

/** `size` is the slot size (8 for rx, 12 for tx); bytes past the struct stay zero. */
export function encodeExtraInfo(extra: NetifExtraInfo, size = NETIF_EXTRA_INFO_SIZE): Buffer {
  if (size < NETIF_EXTRA_INFO_SIZE) throw new NetifError('EINVAL', `extra info slot of ${size} bytes is too small`);
  const out = Buffer.alloc(size);
  out.writeUInt8(extra.more ? XEN_NETIF_EXTRA_FLAG_MORE : 0, 1);
  switch (extra.type) {
    case 'gso':
      out.writeUInt8(T.XEN_NETIF_EXTRA_TYPE_GSO, 0);
      checkU16(extra.size, 'gso size');
      checkU8(extra.gsoType, 'gso type');
      checkU16(extra.features, 'gso features');
      out.writeUInt16LE(extra.size, 2);
      out.writeUInt8(extra.gsoType, 4);
      out.writeUInt16LE(extra.features, 6);
      break;
    case 'mcast-add':
    case 'mcast-del':
      out.writeUInt8(
        extra.type === 'mcast-add' ? T.XEN_NETIF_EXTRA_TYPE_MCAST_ADD : T.XEN_NETIF_EXTRA_TYPE_MCAST_DEL,
        0,
      );
      if (extra.addr.length !== 6) throw new NetifError('EINVAL', `mcast addr has ${extra.addr.length} bytes, need 6`);
      out.set(extra.addr, 2);
      break;
    case 'hash':
      out.writeUInt8(T.XEN_NETIF_EXTRA_TYPE_HASH, 0);
      checkU8(extra.hashType, 'hash type');
      checkU8(extra.algorithm, 'hash algorithm');
      if (extra.value.length !== 4)
        throw new NetifError('EINVAL', `hash value has ${extra.value.length} bytes, need 4`);
      out.writeUInt8(extra.hashType, 2);
      out.writeUInt8(extra.algorithm, 3);
      out.set(extra.value, 4);
      break;
  }
  return out;
}

/** Throws EPROTO for type NONE or an unknown type: the peer sent something that is not an extra. */
export function decodeExtraInfo(bytes: Uint8Array): NetifExtraInfo {
  const v = checkLength(bytes, NETIF_EXTRA_INFO_SIZE, 'extra info');
  const type = v.getUint8(0);
  const more = (v.getUint8(1) & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
  switch (type) {
    case T.XEN_NETIF_EXTRA_TYPE_GSO:
      return { type: 'gso', more, size: v.getUint16(2, true), gsoType: v.getUint8(4), features: v.getUint16(6, true) };
    case T.XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
    case T.XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
      return {
        type: type === T.XEN_NETIF_EXTRA_TYPE_MCAST_ADD ? 'mcast-add' : 'mcast-del',
        more,
        addr: Uint8Array.from(bytes.subarray(2, 8)),
      };
    case T.XEN_NETIF_EXTRA_TYPE_HASH:
      return {
        type: 'hash',
        more,
        hashType: v.getUint8(2),
        algorithm: v.getUint8(3),
        value: Uint8Array.from(bytes.subarray(4, 8)),
      };
    default:
      throw new NetifError('EPROTO', `extra info type ${type} is none of GSO, MCAST_ADD, MCAST_DEL, HASH`);
  }
}
