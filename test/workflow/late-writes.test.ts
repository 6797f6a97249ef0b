/**
 * An ordinary rollout: the old application keeps writing old-shape documents after the backfill passed their range.
 * Verification finds them; they are caught up (migrated once more through the same engine), never a reason to roll back
 * a correct migration. The late writes are made deterministic by the notify webhook, which the run awaits on entering
 * each phase: on the first `verifying`, the "old application" creates old-shape documents before answering.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { migrationRunbook } from '../../workflows';
import { Harness, customers, splitNameModule } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 180_000);
afterAll(async () => {
  await h?.close();
});

test('old-shape documents written after the backfill are caught up and the run completes: every document at the new version, none missing, no rollback', async () => {
  const docs = customers(40);
  const { database, container } = await h.seed(docs);
  const id = `split-${randomUUID().slice(0, 6)}`;
  h.writeMigration(`${id}.js`, splitNameModule(id, database));
  const live = h.cosmos.database(database).container(container);
  const late = Array.from({ length: 7 }, (_, i) => ({
    id: `late-${i}`,
    tenant: `t${i % 3}`,
    name: `Late${i} Writer${i}`,
  }));
  let verifications = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const event = JSON.parse(body) as { phase?: string };
      const answer = () => res.writeHead(200).end('ok');
      if (event.phase !== 'verifying') return answer();
      verifications += 1;
      if (verifications > 1) return answer();
      // The old application, still deployed, creates documents in the old shape after the backfill is done.
      void Promise.all(late.map((d) => live.items.create(d))).then(answer, (err: Error) =>
        res.writeHead(500).end(err.message)
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
    const w = await h.worker({ notify: { webhooks: [hook] } });
    await w.worker.runUntil(async () => {
      const handle = await h.client.workflow.start(migrationRunbook, {
        taskQueue: w.taskQueue,
        workflowId: `late-${randomUUID()}`,
        args: [{ migration: id, approval: { required: false }, monitor: { duration: '1s', interval: '1s' } }],
      });
      const report = await handle.result();
      expect(report.status).toBe('completed');
      expect(report.rollback).toBeUndefined();
      expect(
        report.timeline.some((t) => /catching up 7 document\(s\) written in the old shape/.test(t.note ?? ''))
      ).toBe(true);
    });
  } finally {
    server.close();
  }
  expect(verifications).toBe(2);
  const after = await h.documents(database, container);
  expect(after).toHaveLength(docs.length + late.length);
  for (const doc of after)
    expect({ id: doc.id, version: doc.schemaVersion, name: doc.name }).toEqual({
      id: doc.id,
      version: 2,
      name: undefined,
    });
});
