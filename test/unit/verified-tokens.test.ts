import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from '../../src/auth/verified-tokens.js';

describe('VerifiedTokens', () => {
  it('remembers a principal until its token expires, and no longer', () => {
    let now = 1_000_000;
    const tokens = new VerifiedTokens(() => now);
    const principal = { kind: 'user' as const, userId: 'alice', expiresAt: now + 5_000 };
    tokens.remember('t1', principal);
    expect(tokens.get('t1')).toBe(principal);
    expect(tokens.get('t2')).toBeUndefined();
    now += 5_000;
    expect(tokens.get('t1')).toBeUndefined();
  });

  it('verifies a token without an expiry again after a minute', () => {
    let now = 0;
    const tokens = new VerifiedTokens(() => now);
    tokens.remember('t', { kind: 'agent', agentId: 'a1' });
    now += 59_999;
    expect(tokens.get('t')).toMatchObject({ agentId: 'a1' });
    now += 1;
    expect(tokens.get('t')).toBeUndefined();
  });

  it('forgets the oldest token beyond 10,000', () => {
    const tokens = new VerifiedTokens(() => 0);
    for (let i = 0; i <= 10_000; i++) tokens.remember(`t${i}`, { kind: 'agent', agentId: `a${i}` });
    expect(tokens.get('t0')).toBeUndefined();
    expect(tokens.get('t1')).toMatchObject({ agentId: 'a1' });
    expect(tokens.get('t10000')).toMatchObject({ agentId: 'a10000' });
  });
});
