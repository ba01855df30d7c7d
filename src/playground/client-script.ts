/**
 * The playground's browser code, served as /playground/assets/playground.js so the page needs no
 * inline script (CSP `script-src 'self'`). It mounts GraphiQL (UMD globals React, ReactDOM,
 * GraphiQL, all served locally) with the example operations as tabs, the Variables pane open (the
 * examples' variables, such as the containment example's placeholder user, must be seen), and the
 * headers each tab starts with for the gateway's caller authentication. A request whose headers
 * still hold a `<placeholder>` is not sent: it could only come back 401; the answer says what to fill
 * in. With introspection off, no schema is asked for (it would be refused).
 */
export const PLAYGROUND_CLIENT_SCRIPT = `(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('playground-config').textContent);
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
  // GraphiQL 3 opens the first tab's query but not its variables when it has no saved tabs yet.
  let firstVisit = true;
  try {
    firstVisit = !window.localStorage.getItem('graphiql:tabState');
  } catch (e) {
    // storage unavailable: every visit is a first one
  }
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultTabs: tabs,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'variables',
      ...(firstVisit && tabs[0] && tabs[0].variables ? { variables: tabs[0].variables } : {}),
      ...(config.introspection ? {} : { schema: null }),
    }),
  );
})();
`;
