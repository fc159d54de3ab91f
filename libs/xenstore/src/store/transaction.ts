// A transaction's private view: copy-on-write over the live tree. Only nodes the transaction changes are
// copied, a changed directory keeps just the names added or removed, so starting a transaction costs
// nothing and each operation O(path depth), whatever the tree's size. The first look at a live node records its generation (or its absence); TRANSACTION_END commits only
// if every recorded node is unchanged, and then replays the transaction's operations on the live tree, so
// concurrent changes to other nodes (siblings included) merge instead of conflicting.
import type { XsPerm } from '../wire/perms.js';
import { XenstoreError } from '../errors.js';
import { EMPTY_VALUE, type NodeView, type StoreView, type XsNode } from './node.js';
import { baseName, childPath, isUnder, parentOf } from './path.js';
import type { Tree } from './tree.js';

/** One change a transaction made, replayed on the live tree at commit. */
export type XsTxOp =
  | { op: 'write'; path: string; value: Buffer }
  | { op: 'mkdir'; path: string }
  | { op: 'rm'; path: string }
  | { op: 'set_perms'; path: string; perms: readonly XsPerm[] };

/**
 * A transaction's copy of a node. Its children are the live node's (`base`) minus `removed` plus `added`,
 * so changing a huge directory costs O(1), not a copy of its list.
 */
class TxNode implements NodeView {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();
  /** Bytes of `added` minus bytes of `removed`. */
  private bytes = 0;
  constructor(
    public value: Buffer,
    public perms: readonly XsPerm[],
    public gen: number,
    public cgen: number,
    /** The live node this copies; null when created in this transaction (then nothing live shows below it). */
    readonly base: XsNode | null,
  ) {}
  get fresh(): boolean {
    return this.base === null;
  }
  get childBytes(): number {
    return (this.base?.childBytes ?? 0) + this.bytes;
  }
  *childNames(): Iterable<string> {
    if (this.base) for (const c of this.base.children) if (!this.removed.has(c) && !this.added.has(c)) yield c;
    yield* this.added;
  }
  addChild(leaf: string, gen: number): void {
    // A removed live child stays hidden at its old place and reappears at the end, as C re-creates it.
    this.added.add(leaf);
    this.bytes += leaf.length + 1;
    this.cgen = gen;
  }
  removeChild(leaf: string, gen: number): void {
    if (!this.added.delete(leaf)) this.removed.add(leaf);
    this.bytes -= leaf.length + 1;
    this.cgen = gen;
  }
}

const DELETED = 'deleted' as const;
const ABSENT = -1;

export class Transaction implements StoreView {
  private readonly overlay = new Map<string, TxNode | typeof DELETED>();
  /** Generation (or ABSENT) of each live node at its first access. */
  private readonly reads = new Map<string, number>();
  /** Children generation of each live node listed. */
  private readonly listed = new Map<string, number>();
  /** Some overlay entry hides live nodes below it (a removal, or a node created here). */
  private masks = false;
  private readonly delta = new Map<number, number>();
  readonly ops: XsTxOp[] = [];

  constructor(
    private readonly tree: Tree,
    readonly id: number,
    /** transaction-nodes quota, 0 = unlimited */
    private readonly maxAccessed: number,
  ) {}

  private masked(name: string): boolean {
    for (let p = parentOf(name); ; p = parentOf(p)) {
      const o = this.overlay.get(p);
      if (o === DELETED || (o !== undefined && o.fresh)) return true;
      if (p === '/') return false;
    }
  }

  /** What this transaction sees at `name`, without recording an access. */
  peek(name: string): NodeView | undefined {
    const o = this.overlay.get(name);
    if (o !== undefined) return o === DELETED ? undefined : o;
    if (this.masks && this.masked(name)) return undefined;
    return this.tree.get(name);
  }

  get(name: string): NodeView | undefined {
    const o = this.overlay.get(name);
    if (o !== undefined) return o === DELETED ? undefined : o;
    if (this.masks && this.masked(name)) return undefined;
    const n = this.tree.get(name);
    if (!this.reads.has(name)) {
      if (this.maxAccessed !== 0 && this.reads.size >= this.maxAccessed) {
        throw new XenstoreError(
          'ENOSPC',
          `transaction ${this.id} would access more than ${this.maxAccessed} nodes (transaction-nodes quota) at ${name}`,
        );
      }
      this.reads.set(name, n ? n.gen : ABSENT);
    }
    return n;
  }

  list(name: string): NodeView | undefined {
    const n = this.get(name);
    if (n === undefined) return undefined;
    // A listing shows the live children too (unless created here), so it depends on them.
    const live = n instanceof TxNode ? n.base : (n as XsNode);
    if (live && !this.listed.has(name)) this.listed.set(name, live.cgen);
    return n;
  }

  ownedBy(domid: number): number {
    return this.tree.ownedBy(domid) + (this.delta.get(domid) ?? 0);
  }

  /** Net nodes each owner gains if this transaction commits. */
  ownerDelta(): ReadonlyMap<number, number> {
    return this.delta;
  }

  private charge(domid: number, n: number): void {
    this.delta.set(domid, (this.delta.get(domid) ?? 0) + n);
  }

  /** The private copy of a visible node, made on its first change. */
  private own(name: string): TxNode {
    const o = this.overlay.get(name);
    if (o instanceof TxNode) return o;
    const live = o === DELETED ? undefined : this.tree.get(name);
    if (!live) throw new XenstoreError('EIO', `transaction ${this.id}: node ${name} changed but not visible`);
    const t = new TxNode(live.value, live.perms, live.gen, live.cgen, live);
    this.overlay.set(name, t);
    return t;
  }

  setValue(name: string, value: Buffer): void {
    const t = this.own(name);
    t.value = value;
    t.gen = this.tree.nextGen();
  }

  create(anchor: string, missing: readonly string[], value: Buffer, perms: readonly XsPerm[]): void {
    let parent = this.own(anchor);
    for (let i = 0; i < missing.length; i++) {
      const name = missing[i];
      parent.addChild(baseName(name), this.tree.nextGen());
      const g = this.tree.nextGen();
      const node = new TxNode(i === missing.length - 1 ? value : EMPTY_VALUE, perms, g, g, null);
      this.overlay.set(name, node);
      parent = node;
    }
    this.masks = true;
    this.charge(perms[0].domid, missing.length);
  }

  setPerms(name: string, perms: readonly XsPerm[]): void {
    const t = this.own(name);
    this.charge(t.perms[0].domid, -1);
    this.charge(perms[0].domid, 1);
    t.perms = perms;
    t.gen = this.tree.nextGen();
  }

  remove(name: string): void {
    this.uncharge(name);
    for (const k of [...this.overlay.keys()]) if (k !== name && isUnder(k, name)) this.overlay.delete(k);
    this.overlay.set(name, DELETED);
    this.masks = true;
    this.own(parentOf(name)).removeChild(baseName(name), this.tree.nextGen());
  }

  private uncharge(name: string): void {
    const n = this.peek(name);
    if (!n) return;
    this.charge(n.perms[0].domid, -1);
    for (const c of n.childNames()) this.uncharge(childPath(name, c));
  }

  /** True when no node this transaction looked at changed since (C xenstored's generation check). */
  unchanged(): boolean {
    for (const [name, gen] of this.reads) {
      const n = this.tree.get(name);
      if ((n ? n.gen : ABSENT) !== gen) return false;
    }
    for (const [name, cgen] of this.listed) if (this.tree.get(name)?.cgen !== cgen) return false;
    return true;
  }
}
