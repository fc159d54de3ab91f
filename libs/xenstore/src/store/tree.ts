// The live tree: nodes indexed by absolute path (O(1) lookup whatever the depth), children kept in creation
// order, per-node generation counts from one global counter, and the count of nodes each domain owns
// (quotas are charged to a node's owner). Special nodes (@introduceDomain, @releaseDomain) live in the same
// index but belong to no directory. No permission or quota checks here: callers check first.
import type { XsPerm } from '../wire/perms.js';
import { XenstoreError } from '../errors.js';
import { EMPTY_VALUE, XsNode, type StoreView } from './node.js';
import { baseName, childPath, parentOf } from './path.js';

/** Visits a node removed by remove(), children before parents; `parent` is its parent before removal. */
export type RemoveVisitor = (name: string, node: XsNode, parent: XsNode) => void;

export class Tree implements StoreView {
  private readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();
  private generation = 0;

  nextGen(): number {
    return ++this.generation;
  }

  get(name: string): XsNode | undefined {
    return this.nodes.get(name);
  }

  list(name: string): XsNode | undefined {
    return this.nodes.get(name);
  }

  ownedBy(domid: number): number {
    return this.owned.get(domid) ?? 0;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Owners and their node counts (for checks and tests). */
  owners(): ReadonlyMap<number, number> {
    return this.owned;
  }

  private must(name: string): XsNode {
    const n = this.nodes.get(name);
    if (!n) throw new XenstoreError('EIO', `store inconsistency: node ${name} expected but absent`);
    return n;
  }

  private charge(domid: number, n: number): void {
    const v = (this.owned.get(domid) ?? 0) + n;
    if (v === 0) this.owned.delete(domid);
    else this.owned.set(domid, v);
  }

  private link(parent: XsNode, leaf: string): void {
    parent.children.add(leaf);
    parent.childBytes += leaf.length + 1;
    parent.cgen = this.nextGen();
  }

  /** A node under an existing parent, or a parentless root/special node (initial layout and import only). */
  insert(name: string, value: Buffer, perms: readonly XsPerm[], parentless = false): XsNode {
    if (this.nodes.has(name)) throw new XenstoreError('EINVAL', `node ${name} inserted twice`);
    const node = new XsNode(value, perms, this.nextGen());
    if (!parentless) {
      const parent = this.nodes.get(parentOf(name));
      if (!parent) throw new XenstoreError('EINVAL', `node ${name} inserted before its parent`);
      this.link(parent, baseName(name));
    }
    this.nodes.set(name, node);
    this.charge(perms[0].domid, 1);
    return node;
  }

  setValue(name: string, value: Buffer): void {
    const n = this.must(name);
    n.value = value;
    n.gen = this.nextGen();
  }

  create(anchor: string, missing: readonly string[], value: Buffer, perms: readonly XsPerm[]): void {
    let parent = this.must(anchor);
    for (let i = 0; i < missing.length; i++) {
      const name = missing[i];
      this.link(parent, baseName(name));
      const node = new XsNode(i === missing.length - 1 ? value : EMPTY_VALUE, perms, this.nextGen());
      this.nodes.set(name, node);
      parent = node;
    }
    this.charge(perms[0].domid, missing.length);
  }

  setPerms(name: string, perms: readonly XsPerm[]): void {
    const n = this.must(name);
    this.charge(n.perms[0].domid, -1);
    this.charge(perms[0].domid, 1);
    n.perms = perms;
    n.gen = this.nextGen();
  }

  remove(name: string, visit?: RemoveVisitor): void {
    const node = this.must(name);
    const parent = this.must(parentOf(name));
    this.drop(name, node, parent, visit);
    const leaf = baseName(name);
    parent.children.delete(leaf);
    parent.childBytes -= leaf.length + 1;
    parent.cgen = this.nextGen();
  }

  private drop(name: string, node: XsNode, parent: XsNode, visit?: RemoveVisitor): void {
    for (const c of node.children) {
      const cn = childPath(name, c);
      this.drop(cn, this.must(cn), node, visit);
    }
    this.nodes.delete(name);
    this.charge(node.perms[0].domid, -1);
    visit?.(name, node, parent);
  }

  /** Pre-order walk from `name`, children in creation order; `enter` returning false skips the children. */
  walk(name: string, enter: (name: string, node: XsNode) => boolean | void): void {
    const node = this.nodes.get(name);
    if (!node || enter(name, node) === false) return;
    for (const c of node.children) this.walk(childPath(name, c), enter);
  }

  /** Recounts owners and children bytes from scratch; true when the incremental bookkeeping agrees. */
  verify(): boolean {
    const owned = new Map<number, number>();
    for (const [name, n] of this.nodes) {
      owned.set(n.perms[0].domid, (owned.get(n.perms[0].domid) ?? 0) + 1);
      let bytes = 0;
      for (const c of n.children) {
        bytes += c.length + 1;
        if (!this.nodes.has(childPath(name, c))) return false;
      }
      if (bytes !== n.childBytes) return false;
    }
    if (owned.size !== this.owned.size) return false;
    for (const [d, c] of owned) if (this.owned.get(d) !== c) return false;
    return true;
  }
}
