// A shared Ethernet segment for stacks under test: every frame reaches every other stack after the current
// event (as a hub would), each stack filtering by MAC itself. `tap` sees each frame and may drop or repeat it.
import { IpStack, type IpStackOptions } from '../src/index.js';
import type { FakeClock } from './fake-clock.js';

export type Tap = (frame: Buffer, from: IpStack) => Buffer[];

export class Hub {
  readonly stacks: IpStack[] = [];
  readonly frames: Buffer[] = [];
  tap: Tap = (f) => [f];

  constructor(private readonly clock: FakeClock) {}

  add(opts: Omit<IpStackOptions, 'send' | 'clock'>): IpStack {
    const stack: IpStack = new IpStack({
      ...opts,
      clock: this.clock,
      send: (frame) => {
        this.frames.push(frame);
        for (const f of this.tap(frame, stack))
          for (const other of this.stacks) if (other !== stack) queueMicrotask(() => other.receive(f));
      },
    });
    this.stacks.push(stack);
    return stack;
  }

  close(): void {
    for (const s of this.stacks) s.close();
  }
}
