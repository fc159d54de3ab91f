// libxl's removal of a device (libxl__initiate_device_generic_remove; xen-facts §5), as a state machine
// the service drives with what it observes of the backend's `state` and a clock: write backend
// online=0 and state=5 (Closing), wait up to 10 s for the backend to reach 6 (Closed), then remove the
// frontend, backend and /libxl dirs. On timeout libxl forces the removal; a backend whose `state` is
// gone (its domain died) leaves only the frontend and the /libxl copy to clean up.
import { XenbusState, type XenbusStateValue } from '@dominion/abi';
import type { DevicePaths } from './device-dirs.js';
import { ownedBy, type XsWrite } from './xs-write.js';

export const DEVICE_REMOVE_TIMEOUT_MS = 10_000;

export type RemovalStep =
  | { kind: 'wait'; deadlineMs: number }
  | { kind: 'remove'; paths: string[]; outcome: 'closed' | 'timeout' | 'backend-gone' };

export class DeviceRemoval {
  readonly deadlineMs: number;
  private done?: RemovalStep & { kind: 'remove' };

  constructor(
    readonly paths: DevicePaths,
    readonly backendDomid: number,
    readonly frontendDomid: number,
    startMs: number,
    timeoutMs = DEVICE_REMOVE_TIMEOUT_MS,
  ) {
    this.deadlineMs = startMs + timeoutMs;
  }

  /** The first step, written in one transaction (keeping the backend dir's perms). */
  initialWrites(): XsWrite[] {
    const perms = ownedBy(this.backendDomid, this.frontendDomid);
    return [
      { path: `${this.paths.backend}/online`, value: '0', perms },
      { path: `${this.paths.backend}/state`, value: String(XenbusState.XenbusStateClosing), perms },
    ];
  }

  /** `backendState` undefined: the node is gone. Once a removal is decided it is returned again. */
  observe(backendState: XenbusStateValue | undefined, nowMs: number): RemovalStep {
    if (this.done) return this.done;
    const { frontend, backend, libxl } = this.paths;
    if (backendState === undefined)
      return (this.done = { kind: 'remove', paths: [frontend, libxl], outcome: 'backend-gone' });
    if (backendState === XenbusState.XenbusStateClosed) {
      return (this.done = { kind: 'remove', paths: [frontend, backend, libxl], outcome: 'closed' });
    }
    if (nowMs >= this.deadlineMs)
      return (this.done = { kind: 'remove', paths: [frontend, backend, libxl], outcome: 'timeout' });
    return { kind: 'wait', deadlineMs: this.deadlineMs };
  }
}
