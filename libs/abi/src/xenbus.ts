// xen/include/public/io/xenbus.h

export const XenbusState = {
  XenbusStateUnknown: 0,
  XenbusStateInitialising: 1,
  XenbusStateInitWait: 2,
  XenbusStateInitialised: 3,
  XenbusStateConnected: 4,
  XenbusStateClosing: 5,
  XenbusStateClosed: 6,
  XenbusStateReconfiguring: 7,
  XenbusStateReconfigured: 8,
} as const;
export type XenbusStateValue = (typeof XenbusState)[keyof typeof XenbusState];

const names = Object.keys(XenbusState);
/** "XenbusStateConnected" for 4; undefined for a value outside 0..8. */
export function xenbusStateName(n: number): string | undefined {
  return Number.isInteger(n) && n >= 0 && n < names.length ? names[n] : undefined;
}
/** Parses a `state` node's value. Missing or garbled reads as Unknown, as the Linux xenbus does. */
export function parseXenbusState(v: string | undefined): XenbusStateValue {
  if (v === undefined || !/^[0-9]$/.test(v)) return XenbusState.XenbusStateUnknown;
  const n = Number(v);
  return (n <= 8 ? n : 0) as XenbusStateValue;
}
