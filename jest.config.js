/** @type {import('jest').Config} */
const transform = {
  '^.+\\.(t|j)sx?$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
// @kubernetes/client-node and a few of its dependencies ship ES modules only.
const transformIgnorePatterns = ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'];
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: '<rootDir>/test/helpers/node-environment.js',
  transform,
  transformIgnorePatterns,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  // The long nights first, so that no worker runs one alone at the end (test/helpers/sequencer.js).
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  projects: [
    project('unit'),
    project('activity'),
    project('workflow', { globalSetup: '<rootDir>/test/helpers/global-setup.js', setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'] }),
    project('replay', { globalSetup: '<rootDir>/test/helpers/global-setup.js', setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'] }),
    // Kubernetes: the platform, the janitor, sparkJob and the operator stand-in on the local control
    // plane (scripts/k8s.sh; NIGHTJAR_TEST_KUBECONFIG), faults from test/support/fault-proxy.ts.
    // Its plane-restarts file restarts the plane's components: it runs with the reliability project.
    project('kubernetes', {
      globalSetup: '<rootDir>/test/helpers/global-setup.js',
      setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/kubernetes/plane-restarts\\.test\\.ts$'],
    }),
    project('integration', { globalSetup: '<rootDir>/test/helpers/global-setup.js', setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'] }),
    // Deployment: the images and the Helm chart, rendered and checked with the tools of scripts/deploy-tools.sh.
    project('deploy'),
    // Property tests: random and malformed messages to every signal, update, HTTP endpoint and Kafka message.
    project('fuzz', { globalSetup: '<rootDir>/test/helpers/global-setup.js', setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'] }),
    // The fault matrix: real worker processes killed and restarted, server restarts, outages.
    // Also the platform's watches across restarts of the plane's components (test/kubernetes/plane-restarts).
    project('reliability', {
      globalSetup: '<rootDir>/test/helpers/global-setup.js',
      setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'],
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts', '<rootDir>/test/kubernetes/plane-restarts.test.ts'],
    }),
    // Browser: the night report (and the Temporal UI) in Debian's Chromium, driven by playwright-core;
    // needs scripts/chromium.sh. Screenshots go to .cache/browser/.
    project('browser', { globalSetup: '<rootDir>/test/helpers/global-setup.js', setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'] }),
    // Kafka: the feed-arrival bridge against the real broker of scripts/kafka.sh. The Kafka client and
    // two of its dependencies ship ES modules only.
    project('kafka', {
      setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'],
      transformIgnorePatterns: ['/node_modules/(?!(@platformatic/kafka|@platformatic/dynamic-buffer|@platformatic/wasm-utils)/)'],
    }),
  ],
};
