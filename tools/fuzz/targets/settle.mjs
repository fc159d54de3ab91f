// Async targets (NBD, 9P) serve requests on promises; a rejection nobody awaited is a finding too.
let stray;
process.on('unhandledRejection', (e) => {
  stray ??= e;
});

/** Lets queued promise work run (bounded: a request that never settles shows up as a fuzzer timeout). */
export async function settle(rounds = 8) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  if (stray !== undefined) {
    const e = stray;
    stray = undefined;
    throw e;
  }
}
