// The oracle every target shares: a library refusing bad input with its own error class is the contract;
// anything else escaping (a TypeError, a RangeError from Buffer, another library's error) is a finding.
export function expectOwn(errorClass, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof errorClass) return undefined;
    throw e;
  }
}

export async function expectOwnAsync(errorClass, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof errorClass) return undefined;
    throw e;
  }
}

/** A bound broken is a finding with a message that says which. */
export function bound(ok, what) {
  if (!ok) throw new Error(`fuzz bound broken: ${what}`);
}
