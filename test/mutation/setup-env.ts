/**
 * The mutation run's jest setup (jest.mutation.config.js): no Temporal dev server. The engine tests start their own
 * emulator and ARM imitation (test/support/stack.ts) and never dial Temporal, but the stack records an address in
 * the environment it writes (local/stack.ts, `mode: 'existing'`). This one answers nothing, so a test of the
 * selection that did need the server would fail loudly instead of passing without it.
 */
process.env.TEMPORAL_ADDRESS ??= '127.0.0.1:1';
process.env.TEMPORAL_NAMESPACE ??= 'default';
