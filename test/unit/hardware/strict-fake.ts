/**
 * A fake that has only what the test gave it: touching anything else fails the test at once,
 * so a service cannot quietly depend on a port method the test did not think about.
 */
export function strictFake<T extends object>(name: string, members: Partial<T>): T {
  return new Proxy(members as T, {
    get(target, property, receiver) {
      if (property === 'then' || typeof property === 'symbol') return Reflect.get(target, property, receiver);
      if (!(property in target)) throw new Error(`${name}.${String(property)} was used but not faked`);
      return Reflect.get(target, property, receiver);
    },
  });
}
