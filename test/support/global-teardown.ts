/** Jest global teardown: stops the shared Temporal dev server started by global-setup.ts. */
export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__TEMPORAL_TEST_SERVER__;
  globalThis.__TEMPORAL_TEST_SERVER__ = undefined;
  await server?.stop();
}
