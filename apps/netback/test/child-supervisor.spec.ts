// The socat supervisor with real short-lived processes: a child that keeps dying is started again with a
// growing delay; stop() ends a running child and no restart follows; a start that fails its check is
// killed and retried.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { waitFor } from '@dominion/testing';
import { ChildSupervisor } from '../src/index.js';

describe('ChildSupervisor', () => {
  it('restarts a dying child with doubling delays, and stops restarting once stopped', async () => {
    const starts: number[] = [];
    const s = new ChildSupervisor({
      what: 'exit 3',
      command: () => ({ file: 'sh', args: ['-c', 'exit 3'] }),
      started: () => void starts.push(performance.now()),
      initialMs: 20,
      maxMs: 80,
    });
    s.start();
    await waitFor(() => starts.length >= 5, 10_000, 'five starts');
    await s.stop();
    const n = s.restarts;
    expect(n).toBeGreaterThanOrEqual(4);
    const gaps = starts.slice(1, 5).map((t, i) => t - starts[i]);
    // 20, 40, 80, 80 ms at least (plus the time to spawn and exit).
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(gaps[3]).toBeGreaterThanOrEqual(75);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.restarts).toBe(n);
  });

  it('stop() ends a running child, which is not started again', async () => {
    const s = new ChildSupervisor({ what: 'sleep', command: () => ({ file: 'sleep', args: ['30'] }) });
    s.start();
    const pid = await waitFor(() => s.pid, 5000, 'sleep running');
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await s.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(s.running).toBe(false);
    expect(s.restarts).toBe(0);
  });

  it('kills a child whose start check fails and tries again', async () => {
    let checks = 0;
    const s = new ChildSupervisor({
      what: 'sleep',
      command: () => ({ file: 'sleep', args: ['30'] }),
      started: () => {
        if (++checks === 1) throw new Error('not ready');
      },
      initialMs: 10,
    });
    s.start();
    await waitFor(() => checks === 2 && s.pid !== undefined, 5000, 'second start');
    expect(s.restarts).toBe(1);
    await s.stop();
  });
});
