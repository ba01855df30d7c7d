/**
 * The playground's browser code, served as /playground/assets/playground.js so the page needs no
 * inline script (CSP `script-src 'self'`). It mounts GraphiQL (UMD globals React, ReactDOM,
 * GraphiQL, all served locally) with the example operations as tabs and the headers editor on.
 */
export const PLAYGROUND_CLIENT_SCRIPT = `(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('playground-config').textContent);
  const fetcher = GraphiQL.createFetcher({ url: config.endpoint });
  const tabs = config.examples.map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : undefined,
    headers: config.defaultHeaders,
  }));
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultTabs: tabs,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
`;
