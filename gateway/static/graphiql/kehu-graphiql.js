// kehu's GraphiQL page: GraphiQL and its explorer plugin, loaded from kehu itself, and a sign-in
// bar. The access token lives in this script's memory only (never the browser's storage, a cookie or the
// URL): closing or reloading the page signs out. Headers typed into GraphiQL's own headers editor
// are not persisted either.
(function () {
  "use strict";

  const endpoint = window.location.pathname; // the page is served at the GraphQL endpoint itself
  let token = null;
  let showToken = function () {}; // set by the React component below

  const EXAMPLE_QUERY = `# kehu GraphiQL
#
# 1. Sign in with the bar above (the demo: tenant demo-automotive, user admin).
#    The schema (Docs, Explorer, completion) loads once you are signed in.
# 2. Run this query with Ctrl-Enter.
#
# Or send a token of your own: put {"Authorization": "Bearer <accessToken>"} in the
# Headers tab below (an API key works the same way).

query FirstCustomers {
  me { user { username displayName } }
  customers(first: 10) {
    edges { node { id displayName kind status phones identifier { type number } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

  function fetcherFor(currentToken) {
    return GraphiQL.createFetcher({
      url: endpoint,
      headers: currentToken ? { Authorization: "Bearer " + currentToken } : {},
    });
  }

  async function post(query, variables, withToken) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (withToken && token) {
      headers.Authorization = "Bearer " + token;
    }
    const response = await fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ query: query, variables: variables }),
      credentials: "omit",
    });
    return response.json();
  }

  const form = document.getElementById("kehu-signin");
  const fields = document.getElementById("kehu-signin-fields");
  const signedIn = document.getElementById("kehu-signed-in");
  const who = document.getElementById("kehu-who");
  const status = document.getElementById("kehu-signin-status");

  function setToken(newToken, label) {
    token = newToken;
    fields.hidden = Boolean(newToken);
    signedIn.hidden = !newToken;
    who.textContent = newToken ? label : "";
    showToken(newToken); // a new fetcher: GraphiQL loads the schema again with the token
  }

  const LOGIN = `mutation Login($tenant: String!, $username: String!, $password: String!) {
    login(tenant: $tenant, username: $username, password: $password) {
      accessToken errors { code message }
    }
  }`;

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    status.textContent = "";
    const data = new FormData(form);
    const tenant = String(data.get("tenant") || "").trim();
    const username = String(data.get("username") || "").trim();
    const password = String(data.get("password") || "");
    form.elements.password.value = ""; // not kept in the page either
    try {
      const answer = await post(LOGIN, { tenant: tenant, username: username, password: password }, false);
      const payload = answer.data && answer.data.login;
      if (payload && payload.accessToken) {
        setToken(payload.accessToken, "Signed in as " + username + " (" + tenant + ")");
        return;
      }
      const error = (payload && payload.errors && payload.errors[0]) || (answer.errors && answer.errors[0]) || {};
      const code = error.code || (error.extensions && error.extensions.code) || "";
      status.textContent = (code ? code + ": " : "") + (error.message || "sign-in failed");
    } catch (failure) {
      status.textContent = "sign-in failed: " + failure;
    }
  });

  document.getElementById("kehu-signout").addEventListener("click", async function () {
    try {
      await post("mutation { logout { ok } }", {}, true); // the token stops working on the server too
    } catch (ignored) {
      // signed out locally all the same
    }
    setToken(null, "");
  });

  const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

  function KehuGraphiQL() {
    const [currentToken, setCurrentToken] = React.useState(token);
    showToken = setCurrentToken;
    const fetcher = React.useMemo(function () { return fetcherFor(currentToken); }, [currentToken]);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: EXAMPLE_QUERY,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(KehuGraphiQL));
})();
