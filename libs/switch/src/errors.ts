// The one error type of libs/switch: EINVAL for a bad port configuration, EEXIST for a port name or MAC
// already on the switch, ENOENT for a port that is not on it. Frames never raise: they are dropped and counted.
import type { XenErrno } from '@dominion/abi';

export type SwitchErrorKind = Extract<XenErrno, 'EINVAL' | 'EEXIST' | 'ENOENT'>;

export class SwitchError extends Error {
  override readonly name = 'SwitchError';
  constructor(
    readonly kind: SwitchErrorKind,
    message: string,
  ) {
    super(message);
  }
}
