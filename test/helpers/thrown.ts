// What a synchronous call threw, so a test can check its class and fields
// with ordinary matchers (toBeInstanceOf, toMatchObject) in one place.

/** The value `call` threw, or undefined if it returned. */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (caught) {
    return caught;
  }
  return undefined;
}
