/** Where blkback reports; the same shape as libs/xenbus's and libs/vbd's loggers so one sink serves all. */
export type { XenbusLogger as BlkbackLogger } from '@dominion/xenbus';
