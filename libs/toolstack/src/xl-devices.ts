// `xl block-list` (xl_block.c) and `xl network-list` (xl_nic.c), formats from xen-facts §8. Numbers
// absent from XenStore (no ring yet) print as -1, as libxl's getinfo leaves them.
import { pad } from './c-format.js';

export const XL_BLOCK_LIST_HEADER = `${pad('Vdev', 5, true)} ${pad('BE', 3, true)} ${pad('handle', 6, true)} ${pad('state', 5, true)} ${pad('evt-ch', 6, true)} ${pad('ring-ref', 8, true)} ${pad('BE-path', 30, true)}`;

export interface BlockListRow {
  devid: number;
  backendDomid: number;
  frontendDomid: number;
  /** The frontend's state. */
  state: number;
  evtch?: number;
  ringRef?: number;
  backendPath: string;
}

export function xlBlockListRow(r: BlockListRow): string {
  return `${pad(r.devid, 5, true)} ${pad(r.backendDomid, 3, true)} ${pad(r.frontendDomid, 6, true)} ${pad(r.state, 5, true)} ${pad(r.evtch ?? -1, 6, true)} ${pad(r.ringRef ?? -1, 8, true)} ${pad(r.backendPath, 30, true)}`;
}

export function formatXlBlockList(rows: readonly BlockListRow[]): string {
  return [XL_BLOCK_LIST_HEADER, ...rows.map(xlBlockListRow)].map((l) => `${l}\n`).join('');
}

export const XL_NETWORK_LIST_HEADER = `${pad('Idx', 3, true)} ${pad('BE', 2, true)} ${pad('Mac Addr.', 17, true)} ${pad('handle', 6, true)} ${pad('state', 5, true)} ${pad('evt-ch', 6, true)} ${pad('tx-', 5)}/${pad('rx-ring-ref', 5, true)} ${pad('BE-path', 30, true)}`;

export interface NetworkListRow {
  devid: number;
  backendDomid: number;
  mac: string;
  state: number;
  evtch?: number;
  txRingRef?: number;
  rxRingRef?: number;
  backendPath: string;
}

export function xlNetworkListRow(r: NetworkListRow): string {
  return `${pad(r.devid, 3, true)} ${pad(r.backendDomid, 2, true)} ${r.mac}${pad(r.devid, 6)} ${pad(r.state, 5)} ${pad(r.evtch ?? -1, 6)} ${pad(r.txRingRef ?? -1, 5)}/${pad(r.rxRingRef ?? -1, 11, true)} ${pad(r.backendPath, 30, true)}`;
}

export function formatXlNetworkList(rows: readonly NetworkListRow[]): string {
  return [XL_NETWORK_LIST_HEADER, ...rows.map(xlNetworkListRow)].map((l) => `${l}\n`).join('');
}

/** A frontend key as libxl's getinfo reads it: a number, else -1 (absent or not a number). */
const num = (v: string | undefined): number => (v !== undefined && /^-?[0-9]+$/.test(v) ? Number(v) : -1);

/**
 * A block-list row from the frontend dir's keys (libxl_device_disk_getinfo reads them there): `backend`,
 * `backend-id`, `state`, `event-channel`, `ring-ref`.
 */
export function blockListRowFrom(
  devid: number,
  frontendDomid: number,
  keys: Readonly<Record<string, string | undefined>>,
): BlockListRow {
  return {
    devid,
    backendDomid: num(keys['backend-id']),
    frontendDomid,
    state: num(keys.state),
    evtch: num(keys['event-channel']),
    ringRef: num(keys['ring-ref']),
    backendPath: keys.backend ?? '',
  };
}

/** A network-list row from the frontend dir's keys (libxl_device_nic_getinfo). */
export function networkListRowFrom(devid: number, keys: Readonly<Record<string, string | undefined>>): NetworkListRow {
  return {
    devid,
    backendDomid: num(keys['backend-id']),
    mac: keys.mac ?? '',
    state: num(keys.state),
    evtch: num(keys['event-channel']),
    txRingRef: num(keys['tx-ring-ref']),
    rxRingRef: num(keys['rx-ring-ref']),
    backendPath: keys.backend ?? '',
  };
}
