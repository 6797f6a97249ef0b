/**
 * Offers (provisioned throughput) on the data plane, which the stock server does not route: `GET /offers`,
 * a query (`POST /offers`, as `client.offers.query` and `container.readOffer()` send it), `GET /offers/{id}` and
 * `PUT /offers/{id}`, in Azure's V2 offer shape
 * (https://learn.microsoft.com/rest/api/cosmos-db/offers). Every container has one offer, its id and `_rid` derived
 * from the container's `_rid`; `content.offerThroughput` is the container's provisioned RU/s (the RU model's), or
 * 400 (Azure's default for a new container) when none was set: the RU model itself keeps its generous
 * `defaultThroughput` for such containers (local/README.md, "RU model"). A replace provisions the new RU/s as ARM
 * would (`control.setThroughput`: buckets, and splits above 10 000 RU/s per range).
 */
import type { RawRequest, RawResponse } from './dispatch';
import type { Engine } from './engine';
import { fixEnabled } from './fix-flags';
import { pathSegments } from './routes';
import { serverRequire } from './server-require';
import type { EmulatorControl } from './types';

type Json = Record<string, unknown>;

export const DEFAULT_OFFER_THROUGHPUT = 400;

interface OfferDeps {
  engine: Engine;
  control: EmulatorControl;
  provisioned(database: string, container: string): number | undefined;
}

const json = (status: number, body: unknown, extra: Record<string, string> = {}): RawResponse => ({
  status,
  headers: { 'content-type': 'application/json', 'x-ms-request-charge': '1', ...extra },
  body: JSON.stringify(body),
});

const notFound = () => json(404, { code: 'NotFound', message: 'Resource Not Found' });

/** An offer id from a container rid: Azure's are 4-character strings; these are the rid's hex, unique per container. */
const offerId = (containerRid: string) => Buffer.from(containerRid).toString('hex').slice(-16);

export function isOfferRequest(url: string): boolean {
  return fixEnabled('offers') && pathSegments(url)[0] === 'offers';
}

async function get(engine: Engine, url: string): Promise<Json | undefined> {
  const res = await engine.dispatch({ method: 'GET', url, headers: {}, body: '' });
  return res.status === 200 ? (JSON.parse(res.body) as Json) : undefined;
}

interface OfferOf {
  offer: Json;
  database: string;
  container: string;
}

async function allOffers(deps: OfferDeps): Promise<OfferOf[]> {
  const offers: OfferOf[] = [];
  for (const db of ((await get(deps.engine, '/dbs'))?.Databases ?? []) as Json[]) {
    const dbUrl = `/dbs/${encodeURIComponent(String(db.id))}`;
    for (const coll of ((await get(deps.engine, `${dbUrl}/colls`))?.DocumentCollections ?? []) as Json[]) {
      const id = offerId(String(coll._rid));
      const throughput = deps.provisioned(String(db.id), String(coll.id)) ?? DEFAULT_OFFER_THROUGHPUT;
      offers.push({
        database: String(db.id),
        container: String(coll.id),
        offer: {
          id,
          _rid: id,
          _self: `offers/${id}/`,
          _etag: `"${id}-${throughput}"`,
          offerVersion: 'V2',
          offerType: 'Invalid',
          resource: coll._self,
          offerResourceId: coll._rid,
          content: { offerThroughput: throughput, offerIsRUPerMinuteThroughputEnabled: false },
        },
      });
    }
  }
  return offers;
}

const feed = (offers: unknown[]) =>
  json(200, { _rid: '', Offers: offers, _count: offers.length }, { 'x-ms-item-count': String(offers.length) });

export async function handleOffers(request: RawRequest, deps: OfferDeps): Promise<RawResponse> {
  const [, id] = pathSegments(request.url);
  const method = request.method.toUpperCase();
  const offers = await allOffers(deps);
  if (id === undefined) {
    if (method === 'GET') return feed(offers.map((o) => o.offer));
    if (method !== 'POST') return json(405, { code: 'MethodNotAllowed', message: `${method} /offers` });
    let query: { query?: unknown; parameters?: unknown[] };
    try {
      query = JSON.parse(request.body) as typeof query;
    } catch {
      return json(400, { code: 'BadRequest', message: 'The query is not JSON.' });
    }
    if (typeof query.query !== 'string') return json(400, { code: 'BadRequest', message: 'missing query' });
    const compile = serverRequire<{
      default: (sql: string) => { exec(docs: unknown[], o: { parameters?: unknown[] }): { result: unknown[] } };
    }>('@zeit/cosmosdb-query').default;
    try {
      const rows = compile(query.query).exec(
        offers.map((o) => o.offer),
        { parameters: query.parameters ?? [] }
      ).result;
      return feed(rows);
    } catch (err) {
      return json(400, { code: 'BadRequest', message: (err as Error).message });
    }
  }
  if (method === 'PUT') {
    let body: Json;
    try {
      body = JSON.parse(request.body) as Json;
    } catch {
      return json(400, { code: 'BadRequest', message: 'The offer is not JSON.' });
    }
    if (body._rid !== id) {
      return json(400, { code: 'BadRequest', message: "The offer's _rid does not match the offer replaced." });
    }
    const target = offers.find((o) => o.offer.id === id);
    if (!target) return notFound();
    const throughput = (body.content as Json | undefined)?.offerThroughput;
    if (typeof throughput !== 'number' || !Number.isInteger(throughput) || throughput < 400) {
      return json(400, { code: 'BadRequest', message: 'content.offerThroughput must be an integer of at least 400.' });
    }
    deps.control.setThroughput(target.database, target.container, throughput);
    const offer = (await allOffers(deps)).find((o) => o.offer.id === id)?.offer;
    return offer ? json(200, offer) : notFound();
  }
  if (method !== 'GET') return json(405, { code: 'MethodNotAllowed', message: `${method} /offers/${id}` });
  const offer = offers.find((o) => o.offer.id === id)?.offer;
  return offer ? json(200, offer) : notFound();
}

/** `x-ms-resource-quota` / `x-ms-resource-usage` on a container read, in Azure's format (sizes in KB). */
export function quotaHeaders(): Record<string, string> {
  return {
    'x-ms-resource-quota':
      'functions=25;storedProcedures=100;triggers=25;documentSize=10240;documentsSize=10485760;documentsCount=-1;collectionSize=10485760;',
    'x-ms-resource-usage':
      'functions=0;storedProcedures=0;triggers=0;documentSize=0;documentsSize=0;documentsCount=0;collectionSize=0;',
  };
}
