/** The GraphiQL storage keys (without `graphiql:`) the page keeps in localStorage: layout and theme, nothing typed. */
export const PERSISTED_STORAGE_KEYS = ['theme', 'visiblePlugin', 'editorFlex', 'secondaryEditorFlex', 'docExplorerFlex'] as const;

/**
 * The playground's browser code, served as /playground/assets/playground.<hash>.js so the page needs no
 * inline script (CSP `script-src 'self'`). It mounts GraphiQL (UMD globals React, ReactDOM,
 * GraphiQL, all served locally) with the example operations as tabs, the Variables pane open (the
 * examples' variables, such as the containment example's placeholder user, must be seen), and the
 * headers each tab starts with for the gateway's caller authentication. A request whose headers
 * still hold a `<placeholder>` is not sent: it could only come back 401; the answer says what to fill
 * in. With introspection off, no schema is asked for (it would be refused).
 *
 * What GraphiQL stores (query, variables, headers, tabs, history, favourites) lives in the page's
 * memory only and is gone when the tab closes or reloads: the Variables pane holds passwords
 * (changePassword) and the Headers pane API keys and bearer tokens, and GraphiQL's history keeps
 * both even with shouldPersistHeaders off. Only layout and theme, which say nothing, stay in
 * localStorage (PERSISTED_STORAGE_KEYS). Every other `graphiql:*` entry an earlier version of the
 * page left in localStorage is removed when the page loads.
 */
export const PLAYGROUND_CLIENT_SCRIPT = `(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('playground-config').textContent);

  // GraphiQL's storage (its \`storage\` prop): kept in memory, except the harmless keys below.
  function playgroundStorage() {
    const kept = new Set(${JSON.stringify(PERSISTED_STORAGE_KEYS.map((key) => `graphiql:${key}`))});
    let persistent = null;
    try {
      persistent = window.localStorage;
      for (const key of Object.keys(persistent)) {
        if (key.startsWith('graphiql:') && !kept.has(key)) persistent.removeItem(key);
      }
    } catch (e) {
      // storage unavailable (or refused): everything stays in memory
    }
    const memory = new Map();
    const stored = (key) => {
      try {
        return persistent && kept.has(key) ? persistent.getItem(key) : null;
      } catch (e) {
        return null;
      }
    };
    return {
      getItem(key) {
        const value = stored(key);
        if (value !== null) return value;
        return memory.has(key) ? memory.get(key) : null;
      },
      setItem(key, value) {
        if (persistent && kept.has(key)) {
          try {
            persistent.setItem(key, String(value));
            return;
          } catch (e) {
            // full or refused: keep it for this page only
          }
        }
        memory.set(key, String(value));
      },
      removeItem(key) {
        memory.delete(key);
        try {
          if (persistent && kept.has(key)) persistent.removeItem(key);
        } catch (e) {
          // nothing to remove
        }
      },
      clear() {
        memory.clear();
        for (const key of kept) this.removeItem(key);
      },
      get length() {
        let count = memory.size;
        for (const key of kept) if (!memory.has(key) && stored(key) !== null) count += 1;
        return count;
      },
    };
  }
  const send = GraphiQL.createFetcher({ url: config.endpoint });
  const placeholderIn = (headers) => Object.entries(headers || {}).find(([, value]) => /<[^>]*>/.test(String(value)));
  const fetcher = (params, options) => {
    const placeholder = placeholderIn(options && options.headers);
    if (placeholder) {
      return Promise.resolve({
        errors: [{ message: 'Not sent: the Headers pane still holds a placeholder in "' + placeholder[0] + '". Replace ' + placeholder[1] + ' with your credential first.' }],
      });
    }
    return send(params, options);
  };
  const tabs = config.examples.map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : undefined,
    headers: config.defaultHeaders,
  }));
  const storage = playgroundStorage();
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      storage,
      defaultTabs: tabs,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'variables',
      // GraphiQL 3 opens the first tab's query but not its variables when it has no saved tabs, which is every load.
      ...(tabs[0] && tabs[0].variables ? { variables: tabs[0].variables } : {}),
      ...(config.introspection ? {} : { schema: null }),
    }),
  );
})();
`;
