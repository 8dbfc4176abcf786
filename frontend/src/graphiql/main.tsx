// GraphiQL at GET /graphql, built here so that it needs no CDN: the backend serves this page
// in place of strawberry's, whose scripts come from unpkg and jsdelivr.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

// The API is this page's own origin; the socket follows the page's scheme.
const { origin, protocol, host } = window.location;
const fetcher = createGraphiQLFetcher({
  url: `${origin}/graphql`,
  subscriptionUrl: `${protocol === "https:" ? "wss:" : "ws:"}//${host}/graphql`,
});

const defaultQuery = `# The GenAI Stack API: queries and mutations over HTTP,
# subscriptions over a WebSocket, both at /graphql.
# Docs (top left) describes every type and field.
{
  components {
    kind
    title
  }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />
  </StrictMode>,
);
