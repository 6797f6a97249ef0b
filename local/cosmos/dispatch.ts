/**
 * Calls the stock server's request listener in-process with a synthetic request and response: no socket, no TLS.
 * Everything in front of the server (fixes, RU model, faults, backup log) and the admin operations go through this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';

export interface RawRequest {
  method: string;
  /** Path and query, e.g. /dbs/app/colls/orders/docs */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
export type Dispatch = (request: RawRequest) => Promise<RawResponse>;

export function createDispatch(listener: RequestListener, host: () => string): Dispatch {
  return (request) =>
    new Promise<RawResponse>((resolve) => {
      const req = new PassThrough();
      Object.assign(req, {
        method: request.method,
        url: request.url,
        headers: { host: host(), 'content-type': 'application/json', ...request.headers },
      });
      req.end(request.body);
      const headers: Record<string, string> = {};
      const res = {
        statusCode: 200,
        finished: false,
        setHeader(name: string, value: unknown) {
          headers[name.toLowerCase()] = String(value);
        },
        getHeader(name: string) {
          return headers[name.toLowerCase()];
        },
        end(chunk?: unknown) {
          res.finished = true;
          resolve({
            status: res.statusCode,
            headers,
            body:
              chunk === undefined
                ? ''
                : typeof chunk === 'string'
                  ? chunk
                  : chunk instanceof Uint8Array
                    ? Buffer.from(chunk).toString('utf8')
                    : JSON.stringify(chunk),
          });
        },
      };
      listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
}
