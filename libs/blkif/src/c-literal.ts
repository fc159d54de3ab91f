// C integer literals as strtoul(3) and sscanf's %i read them with base 0: `0x1f` hex, `017` octal, `17`
// decimal. libxl reads vdevs this way and libxlu every number of an xl cfg. Only the literal syntax is
// accepted: the leading whitespace the C functions would also skip is refused.

/** INT_MAX of the ABIs Xen's tools run on; libxl's device numbers are C ints. */
export const INT_MAX = 0x7fffffff;

const C_LITERAL = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/;

/** The whole of `text` as one C integer literal (base 0), unbounded; undefined if it is not one. */
export function parseCLiteral(text: string): bigint | undefined {
  const m = C_LITERAL.exec(text);
  if (!m) return undefined;
  const [, sign, hex, oct, dec] = m;
  let v: bigint;
  if (hex !== undefined) v = BigInt(`0x${hex}`);
  else if (oct !== undefined) v = oct.length > 1 ? BigInt(`0o${oct.slice(1)}`) : 0n;
  else v = BigInt(dec);
  return sign === '-' ? -v : v;
}
