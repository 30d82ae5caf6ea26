import { gatewayError } from '../errors.js';
import type { Principal } from './principal.js';

/** The user id of a caller who may own sessions; agents and publish tokens may only publish. */
export function requireUser(principal: Principal): string {
  if (principal.kind === 'user') return principal.userId;
  if (principal.kind === 'anonymous') throw gatewayError('UNAUTHENTICATED', 'Sign in: this needs a user token.');
  throw gatewayError('FORBIDDEN', 'Agents and publish tokens can publish events, not read or manage sessions.');
}

/**
 * Whether the caller may publish to a session: an agent anywhere, a publish token only to its own session, and in
 * development mode any user. Checked before the session is looked up, so no one learns which sessions exist.
 */
export function requirePublisher(principal: Principal, sessionId: string, development: boolean): void {
  if (principal.kind === 'anonymous') throw gatewayError('UNAUTHENTICATED', 'Publishing needs an agent token or a publish token.');
  if (principal.kind === 'agent') return;
  // A publish token is scoped to its session even in development mode, where any signed-in caller may publish.
  if (principal.kind === 'session-publisher' ? principal.sessionId === sessionId : development) return;
  throw gatewayError('FORBIDDEN', 'This credential may not publish to this session.');
}
