/** Where netback reports; the same shape as libs/xenbus's logger so one sink serves both. */
export type { XenbusLogger as NetbackLogger } from '@dominion/xenbus';
export { silentLogger } from '@dominion/xenbus';
