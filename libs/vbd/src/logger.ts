/** Where blkback's engine reports refused and failed requests; fields carry domid, devid and the request id. */
export type VbdLogger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export const silentVbdLogger: VbdLogger = () => undefined;
