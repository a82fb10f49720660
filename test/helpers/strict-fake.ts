/**
 * A fake of a class with only the members a test stubs; touching anything else fails the
 * test at once, naming the member, so a service can't quietly use a dependency unchecked.
 */
export function strictFake<T extends object>(name: string, stubs: Partial<T>): T {
  return new Proxy(stubs as T, {
    get(target, key, receiver) {
      if (key in target || typeof key === 'symbol' || key === 'then')
        return Reflect.get(target, key, receiver);
      throw new Error(`${name}.${String(key)} was used but the test did not stub it`);
    },
  });
}
