// A node as a request sees it: the live tree's node, or a transaction's private copy of one.
import type { XsPerm } from '../wire/perms.js';

export interface NodeView {
  readonly value: Buffer;
  readonly perms: readonly XsPerm[];
  /** Generation of the node's value, permissions and existence (changes on each of them). */
  readonly gen: number;
  /** Generation of the node's children list (DIRECTORY_PART's gencnt; a listing conflicts on it). */
  readonly cgen: number;
  /** Bytes of the children list as DIRECTORY sends it: each name plus its NUL. */
  readonly childBytes: number;
  /** Children in creation order. */
  childNames(): Iterable<string>;
}

export const EMPTY_VALUE: Buffer = Buffer.alloc(0);

/** A node of the live tree. Permission lists are never mutated in place, so they may be shared. */
export class XsNode implements NodeView {
  /** A Set keeps insertion order, so listing order is creation order (as C xenstored's children list). */
  readonly children = new Set<string>();
  childBytes = 0;
  cgen: number;
  constructor(
    public value: Buffer,
    public perms: readonly XsPerm[],
    public gen: number,
  ) {
    this.cgen = gen;
  }
  childNames(): Iterable<string> {
    return this.children;
  }
}

/** Where the tree and a transaction's view agree: reads, and the four mutations requests make. */
export interface StoreView {
  get(name: string): NodeView | undefined;
  /** As get(), for a caller that will list the children (a transaction then also checks the list). */
  list(name: string): NodeView | undefined;
  /** Nodes owned by `domid` as this view sees them. */
  ownedBy(domid: number): number;
  setValue(name: string, value: Buffer): void;
  /** Creates `missing` (top-down absolute paths, the first a child of `anchor`); the last gets `value`. */
  create(anchor: string, missing: readonly string[], value: Buffer, perms: readonly XsPerm[]): void;
  setPerms(name: string, perms: readonly XsPerm[]): void;
  remove(name: string): void;
}
