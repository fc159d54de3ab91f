// BLAKE3 (the BLAKE3 paper and specification, hash mode), written from the specification. The input is
// split into 1 KiB chunks of 64-byte blocks; each block is mixed into a chaining value by the compression
// function (7 rounds of the quarter-round G over a 16-word state, the message words permuted between
// rounds); chunk chaining values are combined pairwise in a binary tree whose left subtree always holds
// the largest power of two of chunks; the root's compression, flagged ROOT, is the output (extendable by
// counting output blocks). All words are little-endian.
const IV = new Uint32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;
const BLOCK_LEN = 64;
const CHUNK_LEN = 1024;
const TWO32 = 4294967296;

/** Message word order of each of the 7 rounds: the permutation applied 0, 1, ... 6 times. */
const SCHEDULE: number[][] = [[...Array(16).keys()]];
for (let r = 1; r < 7; r++) SCHEDULE.push(PERMUTATION.map((p) => SCHEDULE[r - 1][p]));

/** The compression function: 16 output words (the first 8 are the next chaining value). */
function compress(cv: Uint32Array, m: Uint32Array, counter: number, blockLen: number, flags: number): Uint32Array {
  // The state in locals, G inlined: a typed-array state with a G function is several times slower.
  let v0 = cv[0],
    v1 = cv[1],
    v2 = cv[2],
    v3 = cv[3],
    v4 = cv[4],
    v5 = cv[5],
    v6 = cv[6],
    v7 = cv[7];
  let v8 = IV[0],
    v9 = IV[1],
    v10 = IV[2],
    v11 = IV[3];
  let v12 = counter % TWO32,
    v13 = Math.floor(counter / TWO32),
    v14 = blockLen,
    v15 = flags;
  for (let r = 0; r < 7; r++) {
    const s = SCHEDULE[r];
    // Columns.
    v0 = (v0 + v4 + m[s[0]]) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m[s[1]]) | 0;
    v12 ^= v0;
    v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0;
    v4 ^= v8;
    v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m[s[2]]) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m[s[3]]) | 0;
    v13 ^= v1;
    v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0;
    v5 ^= v9;
    v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m[s[4]]) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m[s[5]]) | 0;
    v14 ^= v2;
    v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0;
    v6 ^= v10;
    v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m[s[6]]) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m[s[7]]) | 0;
    v15 ^= v3;
    v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0;
    v7 ^= v11;
    v7 = (v7 >>> 7) | (v7 << 25);
    // Diagonals.
    v0 = (v0 + v5 + m[s[8]]) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m[s[9]]) | 0;
    v15 ^= v0;
    v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0;
    v5 ^= v10;
    v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m[s[10]]) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m[s[11]]) | 0;
    v12 ^= v1;
    v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0;
    v6 ^= v11;
    v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m[s[12]]) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m[s[13]]) | 0;
    v13 ^= v2;
    v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0;
    v7 ^= v8;
    v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m[s[14]]) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m[s[15]]) | 0;
    v14 ^= v3;
    v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0;
    v4 ^= v9;
    v4 = (v4 >>> 7) | (v4 << 25);
  }
  const out = new Uint32Array(16);
  out[0] = v0 ^ v8;
  out[1] = v1 ^ v9;
  out[2] = v2 ^ v10;
  out[3] = v3 ^ v11;
  out[4] = v4 ^ v12;
  out[5] = v5 ^ v13;
  out[6] = v6 ^ v14;
  out[7] = v7 ^ v15;
  out[8] = v8 ^ cv[0];
  out[9] = v9 ^ cv[1];
  out[10] = v10 ^ cv[2];
  out[11] = v11 ^ cv[3];
  out[12] = v12 ^ cv[4];
  out[13] = v13 ^ cv[5];
  out[14] = v14 ^ cv[6];
  out[15] = v15 ^ cv[7];
  return out;
}

/** The inputs of a node's last compression, kept so that the root can be finalised with ROOT. */
interface Output {
  readonly cv: Uint32Array;
  readonly block: Uint32Array;
  readonly counter: number;
  readonly blockLen: number;
  readonly flags: number;
}

function blockWords(data: Uint8Array, at: number, length: number, words = new Uint32Array(16)): Uint32Array {
  if (length === BLOCK_LEN) {
    for (let i = 0, j = at; i < 16; i++, j += 4)
      words[i] = data[j] | (data[j + 1] << 8) | (data[j + 2] << 16) | (data[j + 3] << 24);
    return words;
  }
  words.fill(0);
  for (let i = 0; i < length; i++) words[i >>> 2] |= data[at + i] << ((i & 3) * 8);
  return words;
}

function chainingValue(o: Output): Uint32Array {
  return compress(o.cv, o.block, o.counter, o.blockLen, o.flags).subarray(0, 8);
}

function chunkOutput(data: Uint8Array, start: number, end: number, chunkIndex: number): Output {
  // compress() reads only the first 8 words of cv, so its whole output serves as the next one.
  let cv: Uint32Array = IV;
  const scratch = new Uint32Array(16);
  const blocks = Math.max(1, Math.ceil((end - start) / BLOCK_LEN));
  for (let b = 0; ; b++) {
    const at = start + b * BLOCK_LEN;
    const length = Math.min(BLOCK_LEN, end - at);
    const flags = (b === 0 ? CHUNK_START : 0) | (b === blocks - 1 ? CHUNK_END : 0);
    if (b === blocks - 1)
      return { cv: cv.slice(0, 8), block: blockWords(data, at, length), counter: chunkIndex, blockLen: length, flags };
    cv = compress(cv, blockWords(data, at, length, scratch), chunkIndex, BLOCK_LEN, flags);
  }
}

/** The output of the subtree over `chunks` chunks from chunk `first`. */
function subtree(data: Uint8Array, first: number, chunks: number): Output {
  if (chunks === 1) {
    const start = first * CHUNK_LEN;
    return chunkOutput(data, start, Math.min(data.length, start + CHUNK_LEN), first);
  }
  let left = 1;
  while (left * 2 < chunks) left *= 2;
  const block = new Uint32Array(16);
  block.set(chainingValue(subtree(data, first, left)), 0);
  block.set(chainingValue(subtree(data, first + left, chunks - left)), 8);
  return { cv: IV, block, counter: 0, blockLen: BLOCK_LEN, flags: PARENT };
}

/** The BLAKE3 hash of `data`, `outLength` bytes long (32 by default). */
export function blake3(data: Uint8Array, outLength = 32): Buffer {
  const root = subtree(data, 0, Math.max(1, Math.ceil(data.length / CHUNK_LEN)));
  const out = Buffer.alloc(outLength);
  for (let block = 0, at = 0; at < outLength; block++) {
    const words = compress(root.cv, root.block, block, root.blockLen, root.flags | ROOT);
    for (let i = 0; i < 16 && at < outLength; i++) {
      for (let byte = 0; byte < 4 && at < outLength; byte++) out[at++] = (words[i] >>> (byte * 8)) & 0xff;
    }
  }
  return out;
}
