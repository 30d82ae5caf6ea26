import type { Plugin } from 'graphql-yoga';

const READY_PATH = '/ready';

/**
 * Answers `/ready`: 200 while `notReadyBecause` returns nothing, else 503 with the reason as JSON. Yoga's own
 * useReadinessCheck did the same, but for every other request it also tested a URLPattern, which cost 2.3 % of the
 * server's CPU on the mutation path (bench/README.md); the path compare below does not.
 */
export function useReadiness(notReadyBecause: () => string | undefined): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== READY_PATH) return;
      const reason = notReadyBecause();
      endResponse(
        reason === undefined
          ? new fetchAPI.Response(null, { status: 200 })
          : new fetchAPI.Response(JSON.stringify({ ready: false, reason }), { status: 503, headers: { 'content-type': 'application/json; charset=utf-8' } }),
      );
    },
  };
}
