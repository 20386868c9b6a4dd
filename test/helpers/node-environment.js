// Jest's node environment with an ordinary global object in each test file's context.
//
// jest-environment-node builds a test file's context with `vm.createContext(<a Proxy>)`: the
// context's global is then "contextified", and every read of a global inside it (Math, String,
// Buffer, Date …) goes through V8 interceptors into the proxy instead of an inline cache: hot loops
// in a test process (the feed generator, an in-process worker's ingest) ran several times slower
// than in plain Node (README, Tests, measured side by side). `vm.constants.DONT_CONTEXTIFY`
// (Node ≥ 20.18) gives the context an ordinary global object, as fast as plain Node, and every vm
// API still takes it; the environment is otherwise jest's own (globals, timers, mocks). On an older
// Node it is jest's environment unchanged. What it gives up is the proxy's bookkeeping of globals
// set by a test, which jest deletes at teardown to soften leaks between files: each file's context
// is dropped at its end either way.
const vm = require('node:vm');
const { TestEnvironment } = require('jest-environment-node');

const ordinaryGlobal = vm.constants?.DONT_CONTEXTIFY;

class NodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    if (ordinaryGlobal === undefined) {
      super(config, context);
      return;
    }
    // jest-environment-node calls vm.createContext once, in its constructor: for that call only,
    // the context gets an ordinary global instead of the proxy.
    const createContext = vm.createContext;
    vm.createContext = () => createContext(ordinaryGlobal);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}

module.exports = NodeEnvironment;
