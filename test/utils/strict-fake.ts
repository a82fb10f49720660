/**
 * A fake of a port or service where every member a test did not provide fails loudly when used,
 * so a service can't quietly depend on something the test did not think about.
 */
export function strictFake<T extends object>(name: string, members: Partial<T>): T {
  return new Proxy(members as T, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver) as unknown;
      // Promise resolution and inspection probe these; they are not calls into the fake.
      if (prop === 'then' || typeof prop === 'symbol' || prop === 'toJSON') return undefined;
      throw new Error(`${name}.${String(prop)} was used but the test did not provide it`);
    },
  });
}
