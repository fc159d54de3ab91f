// Selects the kernel an xl.cfg names: `builtin:<name>` or the path of an ES module exporting `createKernel`
// (or a default export) that returns a GuestKernel.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GuestError } from './errors.js';
import type { GuestKernel, KernelFactory } from './kernel.js';
import { createMinios } from './minios.js';

export const BUILTIN_KERNELS: Record<string, KernelFactory> = { minios: createMinios };

export async function loadKernel(spec: string): Promise<GuestKernel> {
  if (spec.startsWith('builtin:')) {
    const name = spec.slice('builtin:'.length);
    const f = BUILTIN_KERNELS[name];
    if (!f)
      throw new GuestError(
        'ENOENT',
        `kernel "${spec}": no builtin kernel "${name}" (have ${Object.keys(BUILTIN_KERNELS).join(', ')})`,
      );
    return f();
  }
  if (spec === '') throw new GuestError('EINVAL', 'kernel: empty kernel name');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(spec)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new GuestError('ENOENT', `kernel "${spec}": cannot load the module: ${(e as Error).message}`);
  }
  const f = mod.createKernel ?? mod.default;
  if (typeof f !== 'function')
    throw new GuestError('EINVAL', `kernel "${spec}": the module exports neither createKernel nor a default function`);
  const k = (f as KernelFactory)();
  if (!k || typeof k.start !== 'function' || typeof k.input !== 'function')
    throw new GuestError('EINVAL', `kernel "${spec}": createKernel() returned no {start, input} kernel`);
  return k;
}
