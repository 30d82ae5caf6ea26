import { gatewayError } from '../errors.js';
import { isSafeId } from '../ids.js';

/** Who the caller is when no authentication is configured (development mode only). */
export const DEV_DEFAULT_USER = 'dev';

function devUser(claimed: unknown): string {
  if (claimed === undefined || claimed === null || claimed === '') return DEV_DEFAULT_USER;
  if (!isSafeId(claimed)) throw gatewayError('UNAUTHENTICATED', 'The user id must be 1–128 letters, digits, - or _.');
  return claimed;
}

/** HTTP and SSE: the `x-user-id` header, or a `userId` query parameter for EventSource, which cannot set headers. */
export function devUserOfRequest(request: Request): string {
  return devUser(request.headers.get('x-user-id') ?? new URL(request.url).searchParams.get('userId'));
}

/** WebSocket: the `userId` connection parameter. */
export function devUserOfConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string {
  return devUser(params?.['userId']);
}
