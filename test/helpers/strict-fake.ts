/**
 * A fake of a port or service with only the members a test stubs: touching anything else fails
 * the test at once, naming the member, so a service can't quietly use a dependency unchecked.
 */
export function strictFake<T extends object>(name: string, stubs: Partial<T>): T {
  return new Proxy(stubs as T, {
    get(target, key, receiver) {
      if (key in target) return Reflect.get(target, key, receiver) as unknown;
      // Promise resolution and inspection probe these; they are not calls into the fake.
      if (key === 'then' || typeof key === 'symbol' || key === 'toJSON') return undefined;
      throw new Error(`${name}.${String(key)} was used but the test did not stub it`);
    },
  });
}
