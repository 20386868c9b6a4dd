import vm from 'node:vm';

// Every project runs its test files in test/helpers/node-environment.js: a context whose global
// is an ordinary object (vm.constants.DONT_CONTEXTIFY), which vm recognises as a context itself.
// Under jest's stock environment the global is a contextified proxy's and this is false, and every
// read of a global in a hot loop (Math, String, Buffer) is two orders of magnitude slower.
// On a Node without it (before 20.18, which package.json still admits) the environment is jest's own.
const ordinaryGlobalAvailable = (vm.constants as Partial<typeof vm.constants> | undefined)?.DONT_CONTEXTIFY !== undefined;

test('test files run with an ordinary global object, not a contextified proxy', () => {
  expect(vm.isContext(globalThis)).toBe(ordinaryGlobalAvailable);
  // jest's own globals are installed on it as before.
  expect(typeof expect).toBe('function');
  expect(globalThis.Buffer).toBe(Buffer);
});
