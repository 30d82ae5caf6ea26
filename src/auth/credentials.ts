import type { IncomingMessage } from 'node:http';

/** The cookie a browser may carry the token in (EventSource and WebSocket upgrades send cookies, not headers). */
export const TOKEN_COOKIE = 'apg_token';

function bearer(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match?.[1];
}

function cookie(header: string | null | undefined): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * The token of an HTTP or SSE request: `Authorization: Bearer`, else the `token` query parameter or the
 * `apg_token` cookie (EventSource cannot set headers).
 */
export function tokenOfRequest(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (header !== null) return bearer(header) ?? '';
  return new URL(request.url).searchParams.get('token') ?? cookie(request.headers.get('cookie'));
}

/**
 * The token of a WebSocket: the `authorization` connection parameter (`Bearer …`), else the upgrade request's
 * Authorization header or cookie.
 */
export function tokenOfConnection(params: Readonly<Record<string, unknown>> | undefined, upgrade: IncomingMessage | undefined): string | undefined {
  if (params?.['authorization'] !== undefined) return bearer(params['authorization']) ?? '';
  const header = upgrade?.headers.authorization;
  if (header !== undefined) return bearer(header) ?? '';
  return cookie(upgrade?.headers.cookie);
}
