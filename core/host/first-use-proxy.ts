/**
 * A module's exports that load the module only when one of them is first read: the CLI's stand-ins
 * for packages only some commands need (scripts/cli-bundle.ts writes this function's text into
 * each), and for what the local state machine runner loads but our runs never use.
 */
export function firstUseProxy(load: () => object): object {
  let loaded: Record<PropertyKey, unknown> | undefined;
  const real = (): Record<PropertyKey, unknown> => (loaded ??= load() as Record<PropertyKey, unknown>);
  return new Proxy({}, {
    get: (_, key) => real()[key],
    has: (_, key) => key in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
