/** Jest global teardown: stops the shared Temporal dev server started by global-setup.ts. */
export default async function globalTeardown(): Promise<void> {
  const env = globalThis.__TEMPORAL_TEST_ENV__;
  globalThis.__TEMPORAL_TEST_ENV__ = undefined;
  await env?.teardown();
}
