import vm from 'node:vm';

// Every project runs its test files in test/helpers/node-environment.js: a context whose global
// is an ordinary object (vm.constants.DONT_CONTEXTIFY), which vm recognises as a context itself.
// Under jest's stock environment the global is a contextified proxy's and this is false, and every
// read of a global in a hot loop (Math, String, Buffer) is two orders of magnitude slower.
test('test files run with an ordinary global object, not a contextified proxy', () => {
  expect(vm.isContext(globalThis)).toBe(true);
  // jest's own globals are installed on it as before.
  expect(typeof expect).toBe('function');
  expect(globalThis.Buffer).toBe(Buffer);
});
