// What netback reads from a vif frontend when it connects (Linux netback's connect_data_rings and
// read_xenbus_vif_flags, xen-facts §3): per queue `tx-ring-ref`, `rx-ring-ref`, `event-channel`;
// `request-rx-copy` must be 1 (there is no flip mode: EOPNOTSUPP otherwise) and `feature-rx-notify` must
// be 1 (without it the backend could not wait for rx buffers: EINVAL); the offload flags are 0 or 1.
import { VIF_FRONTEND_KEYS as F } from '@dominion/netif';
import { readRingTransport, XenbusError, type RingTransport, type XenbusKeyReader } from '@dominion/xenbus';
import { NetbackError } from './errors.js';

export interface VifFeatures {
  sg: boolean;
  gsoTcpv4: boolean;
  gsoTcpv6: boolean;
  /** IPv4 checksum offload is on unless the frontend set feature-no-csum-offload. */
  noCsumOffload: boolean;
  ipv6CsumOffload: boolean;
}

export interface VifFrontend {
  /** One queue per multi-queue-num-queues, each with `tx-ring-ref` and `rx-ring-ref` grant refs. */
  transport: RingTransport;
  features: VifFeatures;
}

const BOOL = ['0', '1'] as const;

export async function readVifFrontend(r: XenbusKeyReader, maxQueues: number): Promise<VifFrontend> {
  const transport = await readRingTransport(r, {
    rings: [F.TX_RING_REF, F.RX_RING_REF],
    eventChannel: F.EVENT_CHANNEL,
    maxQueues,
  });
  if ((await r.optOneOf(F.REQUEST_RX_COPY, BOOL)) !== '1') {
    throw new NetbackError('EOPNOTSUPP', `${r.path(F.REQUEST_RX_COPY)}: must be 1, this backend only copies`);
  }
  if ((await r.optOneOf(F.FEATURE_RX_NOTIFY, BOOL)) !== '1') {
    throw new XenbusError('EINVAL', `${r.path(F.FEATURE_RX_NOTIFY)}: feature-rx-notify is mandatory`);
  }
  const flag = async (key: string) => (await r.optOneOf(key, BOOL)) === '1';
  return {
    transport,
    features: {
      sg: await flag(F.FEATURE_SG),
      gsoTcpv4: await flag(F.FEATURE_GSO_TCPV4),
      gsoTcpv6: await flag(F.FEATURE_GSO_TCPV6),
      noCsumOffload: await flag(F.FEATURE_NO_CSUM_OFFLOAD),
      ipv6CsumOffload: await flag(F.FEATURE_IPV6_CSUM_OFFLOAD),
    },
  };
}
