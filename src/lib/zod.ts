import { createRequire, Module } from 'node:module';
import type * as Zod from 'zod';

/**
 * zod, as every module of autopull uses it (`import { z } from '../lib/zod.js'`), without its
 * ~60 translations of the error messages: zod's entry modules load every locale it has, which
 * was ~35 ms of CPU and ~2.5 MiB at each start (and each CLI command), and autopull words its
 * own messages (config/describe-issue.ts) over zod's English ones, which zod loads apart.
 *
 * zod is loaded through its CommonJS build, where a module can be given before it is loaded:
 * its `locales` index is replaced by one that loads the real index the first time a locale is
 * asked for (`z.locales.de`, nothing in autopull does), so nothing is lost. zod's ESM build is
 * not loaded at all (one zod in the process: its classes stay one).
 */
const require = createRequire(import.meta.url);

function deferLocales(): void {
  const index = require.resolve('zod/v4/locales');
  if (require.cache[index]) return;
  let real: Record<PropertyKey, unknown> | undefined;
  const load = (): Record<PropertyKey, unknown> => {
    if (real === undefined) {
      delete require.cache[index];
      real = require(index) as Record<PropertyKey, unknown>;
      require.cache[index] = stand;
    }
    return real;
  };
  const stand = new Module(index);
  stand.filename = index;
  stand.loaded = true;
  // `__esModule` first: zod's `__importStar` then takes this object as it is, reading no locale.
  stand.exports = new Proxy({} as Record<PropertyKey, unknown>, {
    get: (_t, key) => (key === '__esModule' ? true : load()[key]),
    has: (_t, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, key) => Reflect.getOwnPropertyDescriptor(load(), key),
  });
  require.cache[index] = stand;
}

try {
  deferLocales();
} catch {
  // zod's files moved (a version laid out otherwise): it loads whole, locales and all, as
  // it would without this module; a slower start, never a failed one.
}

export const z: typeof Zod.z = (require('zod') as typeof Zod).z;

/** The types autopull names as `z.X` (declared here: `z` above is the value). */
// eslint-disable-next-line @typescript-eslint/no-namespace -- types only, merged with the value z
export declare namespace z {
  type ZodType<Output = unknown, Input = unknown> = Zod.z.ZodType<Output, Input>;
  type output<T> = Zod.z.output<T>;
  type input<T> = Zod.z.input<T>;
  type infer<T> = Zod.z.infer<T>;
}
