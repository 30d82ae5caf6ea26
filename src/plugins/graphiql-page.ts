import { renderGraphiQL as renderFromCdn, type GraphiQLOptions } from 'graphql-yoga';

/**
 * Where GraphiQL's scripts, styles, fonts and editor workers come from: `bundled` inlines them all into the page
 * from `@graphql-yoga/render-graphiql`, the version installed (nothing is fetched from another origin: works
 * offline); `cdn` is Yoga's default page, which loads them from unpkg.com (without integrity checks).
 */
export type GraphiQLAssets = 'bundled' | 'cdn';

/**
 * Runs in the page, around the options GraphiQL is rendered with. Yoga's GraphiQL sends the headers editor's
 * headers with HTTP requests only; its WebSocket (graphql-ws) connects with the `connectionParams` option, which it
 * calls on every connect, and it connects anew for every subscription run. So the headers editor's text becomes the
 * connection parameters the gateway reads: `authorization`, and the development identity `userId` (from
 * `x-user-id`). GraphiQL reports every change of that text (an edit, a tab switch, a new tab) to `onEditHeaders`
 * as it happens, but not the text it opens with (the headers last edited, which it keeps in localStorage): that is
 * the active tab's, which `onTabChange` reports at the latest when a run starts. Tab state lags edits by 100 ms,
 * so it is only taken until the first edit.
 */
const WITH_CONNECTION_PARAMS_FROM_HEADERS = `((options) => {
  let headers;
  return Object.assign(options, {
    onEditHeaders(text) {
      headers = text;
    },
    onTabChange(state) {
      headers ??= state.tabs[state.activeTabIndex]?.headers ?? '';
    },
    connectionParams() {
      let parsed = {};
      try {
        parsed = JSON.parse(headers || '{}');
      } catch {}
      const params = {};
      for (const [name, value] of Object.entries(parsed && typeof parsed === 'object' ? parsed : {})) {
        if (name.toLowerCase() === 'authorization') params.authorization = value;
        if (name.toLowerCase() === 'x-user-id') params.userId = value;
      }
      return params;
    },
  });
})`;

async function render(assets: GraphiQLAssets, options: GraphiQLOptions): Promise<string> {
  // Imported on first use: the bundled page is about 9 MB of strings, not worth holding unless GraphiQL is opened.
  const page = assets === 'bundled' ? (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options) : renderFromCdn(options);
  // Both pages end with `renderYogaGraphiQL(root, <the options as JSON>)`.
  const json = JSON.stringify(options);
  const at = page.lastIndexOf(json);
  if (at < 0) throw new Error('GraphiQL page without its options');
  return `${page.slice(0, at)}${WITH_CONNECTION_PARAMS_FROM_HEADERS}(${json})${page.slice(at + json.length)}`;
}

/** Yoga's `renderGraphiQL`: the page for `assets`, rendered once per set of options (ours never change). */
export function graphiqlPage(assets: GraphiQLAssets): (options: GraphiQLOptions) => Promise<string> {
  let last: { json: string; page: Promise<string> } | undefined;
  return (options) => {
    const json = JSON.stringify(options);
    if (last?.json !== json) {
      const page = render(assets, options);
      last = { json, page };
      // A failed render is not kept: the next request tries again.
      page.catch(() => last?.page === page && (last = undefined));
    }
    return last.page;
  };
}
