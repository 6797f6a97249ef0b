/**
 * Runs mocha-style specs under jest: before/after, and `this.timeout()`/`this.skip()` in describe and it callbacks
 * (jest calls them without a mocha context).
 */
const context = {
  timeout() {},
  retries() {},
  slow() {},
  skip() {},
  // `this.test.fullTitle()` in a beforeEach: the current test's full name.
  test: { fullTitle: () => expect.getState().currentTestName ?? '' },
};
const wrap = (fn) => {
  if (typeof fn !== 'function') return fn;
  return fn.length > 0 ? (done) => fn.call(context, done) : () => fn.call(context);
};
const withContext = (base) => {
  const wrapped = (name, fn, timeout) => base(name, wrap(fn), timeout);
  for (const key of ['only', 'skip', 'each'])
    if (base[key]) wrapped[key] = (name, fn, t) => base[key](name, wrap(fn), t);
  return wrapped;
};
const jestDescribe = global.describe;
// Mocha ignores what a describe callback returns (some are `async function`); jest refuses a promise.
const body = (fn) => () => {
  fn.call(context);
};
global.describe = (name, fn) => jestDescribe(name, body(fn));
global.describe.only = (name, fn) => jestDescribe.only(name, body(fn));
global.describe.skip = (name, fn) => jestDescribe.skip(name, body(fn));
global.it = withContext(global.it);
global.before = (fn) => beforeAll(wrap(fn));
global.after = (fn) => afterAll(wrap(fn));
const jestBeforeEach = global.beforeEach;
const jestAfterEach = global.afterEach;
global.beforeEach = (fn) => jestBeforeEach(wrap(fn));
global.afterEach = (fn) => jestAfterEach(wrap(fn));
