// Seeded property tests: whatever bytes arrive, every parser here returns or throws XlCfgError, never
// anything else, and never takes long; and configs generated from known values parse back to them.
import {
  XlCfgError,
  domainConfig,
  parseDiskSpec,
  parseP9Spec,
  parseVifRate,
  parseVifSpec,
  parseVlan,
  parseVtpmSpec,
  parseXlCfg,
  vdevToDevice,
  type XlCfgValue,
} from '../src/index.js';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed;
const rand = rng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

/** Every input that ran, for the failure message: reproduce with the printed seed and index. */
function survives(label: string, i: number, input: unknown, f: () => unknown): void {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    if (!(e instanceof XlCfgError)) {
      throw new Error(`${label} #${i} (seed ${SEED}) threw ${String(e)} for ${JSON.stringify(input)}`, { cause: e });
    }
    expect(e.kind).toBe('EINVAL');
  }
  const ms = performance.now() - t0;
  if (ms > 250) throw new Error(`${label} #${i} took ${ms.toFixed(0)} ms for ${JSON.stringify(input).slice(0, 200)}`);
}

function randomBytes(max: number): string {
  const len = int(max);
  let s = '';
  for (let i = 0; i < len; i++) {
    // mostly the characters the lexers care about, sometimes anything (NUL, CR, UTF-16 surrogates …)
    s += rand() < 0.7 ? pick([...' \t\n#"\'\\[],;=+-.():@xXaz09_AZ/']) : String.fromCharCode(int(0x10000));
  }
  return s;
}

const NEAR_VALID = [
  'name = "vm"\nmemory = 512\nvcpus = 2\n',
  'name="vm"; disk=["/dev/vg/x,raw,xvda,rw", "format=raw, vdev=xvdb, target=/t,u"]\n',
  'name = "vm"\nvif = [ "mac=00:16:3e:00:00:01,bridge=xenbr0,rate=10Mb/s@20ms" ]\n',
  'name = "vm"\np9 = [ "tag=s,security_model=none,path=/srv" ]\nvtpm = ["backend=v"]\n',
  'name = "vm" # c\nextra = "quiet"\non_crash = "restart"\ncpu_weight = 0x100\n',
  'a = [1, [2, [3, "x"]], ]\na += [4]\n',
];

function mutate(s: string): string {
  let out = s;
  for (let k = 1 + int(4); k > 0; k--) {
    const at = int(out.length + 1);
    switch (int(5)) {
      case 0:
        out = out.slice(0, at) + pick([...'[],;="\'#\n\\-+x0']) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + int(3));
        break;
      case 2:
        out = out.slice(0, at) + out.slice(int(out.length), int(out.length)) + out.slice(at);
        break;
      case 3:
        out = out.slice(0, at) + '['.repeat(int(50)) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + randomBytes(6) + out.slice(at);
    }
  }
  return out;
}

describe(`fuzz (seed ${SEED})`, () => {
  it('the xl.cfg parser and domain extraction either succeed or throw XlCfgError', () => {
    for (let i = 0; i < 1500; i++) {
      const text = i % 2 === 0 ? randomBytes(80) : mutate(pick(NEAR_VALID));
      survives('cfg', i, text, () => {
        const cfg = parseXlCfg(text, { source: 'fuzz.cfg', overrides: i % 7 === 0 ? [mutate('memory=1')] : [] });
        domainConfig(cfg);
      });
    }
  });

  it('the device spec parsers either succeed or throw XlCfgError', () => {
    const words = [
      '/dev/x',
      'raw',
      'xvda',
      'rw',
      'cdrom',
      'target=',
      'vdev=',
      'phy:',
      'tap:aio:',
      'mac=',
      'rate=',
      'bridge=',
      'tag=',
      'path=',
      'type=',
      'backend=',
    ];
    for (let i = 0; i < 2000; i++) {
      const spec =
        rand() < 0.5
          ? randomBytes(40)
          : Array.from({ length: 1 + int(6) }, () => pick(words) + randomBytes(4)).join(pick([',', ', ', '']));
      survives('disk', i, spec, () => parseDiskSpec(spec));
      survives('vif', i, spec, () => parseVifSpec(spec));
      survives('vif-attach', i, spec, () => parseVifSpec(spec.split(' '), { strict: true }));
      survives('rate', i, spec, () => parseVifRate(spec));
      survives('p9', i, spec, () => parseP9Spec(spec, { domainName: 'f' }));
      survives('vtpm', i, spec, () => parseVtpmSpec(spec));
      survives('vdev', i, spec, () => vdevToDevice(spec));
      survives('vlan', i, spec, () => parseVlan(spec));
    }
  });

  it('deep nesting fails cleanly, never with a JS stack overflow', () => {
    for (const n of [5000, 20000, 100000]) {
      survives('nest', n, n, () => parseXlCfg(`a = ${'['.repeat(n)}${']'.repeat(n)}\n`, { source: 'deep.cfg' }));
      survives('open', n, n, () => parseXlCfg(`a = ${'[\n'.repeat(n)}`, { source: 'deep.cfg' }));
    }
  });

  it('configs rendered from random values, in random layouts, parse back to those values', () => {
    const render = (v: XlCfgValue, depth: number): [string, XlCfgValue] => {
      const gap = () => pick(['', ' ', '\t', '\n', ' # note\n']);
      if (Array.isArray(v)) {
        const parts = v.map((x) => render(x, depth + 1));
        const body = parts.map(([t]) => `${gap()}${t}${gap()}`).join(',');
        return [`[${gap()}${body}${parts.length > 0 && rand() < 0.5 ? ',' : ''}${gap()}]`, parts.map(([, p]) => p)];
      }
      if (typeof v === 'number') {
        const form = int(3);
        return [form === 0 ? String(v) : form === 1 ? `0x${v.toString(16)}` : v === 0 ? '0' : `0${v.toString(8)}`, v];
      }
      const q = pick(['"', "'"]);
      const esc = [...v]
        .map((c) => (c === q || c === '\\' ? `\\${c}` : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c))
        .join('');
      return [`${q}${esc}${q}`, v];
    };
    const value = (depth: number): XlCfgValue => {
      const k = int(depth > 3 ? 2 : 3);
      if (k === 0) return int(100000);
      if (k === 1) return Array.from({ length: int(8) }, () => pick([...'ab/ =,[]#"\'\\\n\tü'])).join('');
      return Array.from({ length: int(4) }, () => value(depth + 1));
    };
    for (let i = 0; i < 400; i++) {
      const expected: Record<string, XlCfgValue> = {};
      let text = '';
      for (let j = int(6); j >= 0; j--) {
        const key = pick(['name', 'memory', 'disk', 'vif', 'x.y_1', 'z']);
        const [t, v] = render(value(0), 0);
        delete expected[key];
        expected[key] = v;
        text += `${pick(['', '  '])}${key}${pick([' = ', '=', '\t=  '])}${t}${pick(['\n', ';', ' # end\n', ';\n'])}`;
      }
      expect({ i, parsed: parseXlCfg(text, { source: 'gen.cfg' }).toObject() }).toEqual({ i, parsed: expected });
    }
  });
});
