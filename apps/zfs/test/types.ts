import type { PoolStatus } from '@dominion/zfs';
import type { ScrubProgressInfo } from '../src/index.js';

export type PoolView = PoolStatus & { scanProgress?: ScrubProgressInfo };
