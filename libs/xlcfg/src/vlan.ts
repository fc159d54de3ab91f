// A vif's `vlan=` as xl-network-configuration(5) defines it: terms separated by `/`, each a VLAN id
// (1..4094) optionally marked `p` (the PVID, implying untagged) or `u` (untagged), a range `a-b[u]`, or
// `v+OFFSETxCOUNT[u]` (v and COUNT more ids, OFFSET apart). Exactly one id is the PVID; a spec that is a
// single id needs no `p`. xl passes the string on untouched (XenStore `vlan`); the hotplug script
// applies it, so this is where Dominion checks it.
export interface VlanMember {
  vid: number;
  untagged: boolean;
}

export interface VlanConfig {
  pvid: number;
  members: VlanMember[];
}

const MAX_VID = 4094;

/** The VLANs of a `vlan=` value, or a reason it is not one. */
export function parseVlan(spec: string): VlanConfig | string {
  const members: VlanMember[] = [];
  let pvid: number | undefined;
  const terms = spec.split('/');
  for (const term of terms) {
    const m =
      /^(?<v>[0-9]+)(?<flag>[pu])?$/.exec(term) ??
      /^(?<a>[0-9]+)-(?<b>[0-9]+)(?<flag>u)?$/.exec(term) ??
      /^(?<v>[0-9]+)\+(?<off>[0-9]+)x(?<count>[0-9]+)(?<flag>u)?$/.exec(term);
    if (!m) return `\`${term}' is not a VLAN id, a range a-b or v+OFFSETxCOUNT`;
    const g = m.groups!;
    const untagged = g.flag !== undefined;
    let ids: number[];
    if (g.a !== undefined) {
      const a = Number(g.a);
      const b = Number(g.b);
      if (a < 1 || b > MAX_VID) return `range \`${term}' is outside 1..${MAX_VID}`;
      if (a > b) return `range \`${term}' runs backwards`;
      ids = Array.from({ length: b - a + 1 }, (_, i) => a + i);
    } else if (g.off !== undefined) {
      const v = Number(g.v);
      const off = Number(g.off);
      const count = Number(g.count);
      if (off < 1 || count < 1) return `\`${term}' needs an offset and a count of at least 1`;
      if (v + off * count > MAX_VID) return `\`${term}' goes beyond VLAN ${MAX_VID}`;
      ids = Array.from({ length: count + 1 }, (_, i) => v + i * off);
    } else {
      ids = [Number(g.v)];
      if (g.flag === 'p') {
        if (pvid !== undefined) return `more than one PVID (${pvid} and ${ids[0]})`;
        pvid = ids[0];
      }
    }
    for (const vid of ids) {
      if (vid < 1 || vid > MAX_VID) return `VLAN ${vid} is outside 1..${MAX_VID}`;
      members.push({ vid, untagged: untagged || vid === pvid });
    }
  }
  if (pvid === undefined) {
    if (members.length !== 1) return 'one VLAN id must be marked as the PVID with `p`';
    pvid = members[0].vid;
    members[0].untagged = true;
  }
  return { pvid, members };
}
