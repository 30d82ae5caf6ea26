import type { Plugin } from 'graphql-yoga';
import { documentTooLarge, ErrorCode, gatewayError } from '../errors.js';

const EMPTY_REFUSALS: Record<number, { code: ErrorCode; message: string }> = {
  406: { code: ErrorCode.NOT_ACCEPTABLE, message: 'The Accept header allows no response type this request can have.' },
  415: { code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'Send the request as application/json.' },
};

function jsonResponse(fetchAPI: { Response: typeof Response }, status: number, body: unknown, headers: Headers = new Headers()) {
  headers.set('content-type', 'application/json; charset=utf-8');
  return new fetchAPI.Response(JSON.stringify(body), { status, headers });
}

function isJsonOrAbsent(text: string | null): boolean {
  if (text === null || text === '') return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every HTTP refusal carries a coded GraphQL error: Yoga answers some with an empty body (415, 406) and fails on
 * malformed `variables`/`extensions` in a GET query string with a 500. Documents over `maxDocumentBytes` are
 * refused before they are parsed (and cached).
 */
export function useCodedHttpRefusals(maxDocumentBytes: number): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      for (const name of ['variables', 'extensions']) {
        if (!isJsonOrAbsent(url.searchParams.get(name))) {
          const error = gatewayError('BAD_REQUEST', `The ${name} parameter is not valid JSON.`);
          return endResponse(jsonResponse(fetchAPI, 400, { errors: [error.toJSON()] }));
        }
      }
    },
    onParams({ params, setResult }) {
      if (typeof params.query === 'string' && params.query.length > maxDocumentBytes) setResult({ errors: [documentTooLarge(maxDocumentBytes)] });
    },
    onResponse({ response, setResponse, fetchAPI }) {
      const refusal = EMPTY_REFUSALS[response.status];
      if (!refusal || response.body !== null) return;
      const error = gatewayError(refusal.code, refusal.message);
      setResponse(jsonResponse(fetchAPI, response.status, { errors: [error.toJSON()] }, new Headers(response.headers)));
    },
  };
}
