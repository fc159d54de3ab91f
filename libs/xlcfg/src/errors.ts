// The one error type of libs/xlcfg. Every refusal of an xl.cfg file, a disk/vif/p9/vtpm spec or a value
// is EINVAL, as xl exits with EINVAL for them; the message says what was wrong and where
// (`<file>:<line>:<col>: ...`, in xl's own words where xl has words for it).
import type { XenErrno } from '@dominion/abi';

export type XlCfgErrorKind = Extract<XenErrno, 'EINVAL'>;

/** Where in a config source something was written. Line and column count from 1. */
export interface XlCfgLocation {
  source: string;
  line?: number;
  column?: number;
}

export class XlCfgError extends Error {
  override readonly name = 'XlCfgError';
  readonly kind: XlCfgErrorKind = 'EINVAL';
  constructor(
    message: string,
    readonly location?: XlCfgLocation,
    /** Advice xl prints after the error, e.g. that the file looks like Python. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** `file:3:7`, `file:3` or `file`: the prefix of every located message. */
export function formatLocation(loc: XlCfgLocation): string {
  if (loc.line === undefined) return loc.source;
  if (loc.column === undefined) return `${loc.source}:${loc.line}`;
  return `${loc.source}:${loc.line}:${loc.column}`;
}

/** An error whose message starts with its location, as xl prints its complaints. */
export function errorAt(loc: XlCfgLocation, msg: string): XlCfgError {
  return new XlCfgError(`${formatLocation(loc)}: ${msg}`, loc);
}
