import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient } from "graphql-ws";
import { useLinkStatus } from "./connection";
import { authorizationHeader } from "./session";

/** The API lives at the SPA's own origin; the socket follows the page's scheme. */
export function graphqlWsUrl(location: Pick<Location, "protocol" | "host">): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

let connectedOnce = false;

export const wsClient = createWsClient({
  url: graphqlWsUrl(window.location),
  lazy: true,
  // read on each (re)connection: the socket acts as whoever is signed in then
  connectionParams: () => {
    const { Authorization } = authorizationHeader();
    return Authorization ? { authorization: Authorization } : {};
  },
  keepAlive: 10_000,
  retryAttempts: Number.POSITIVE_INFINITY,
  shouldRetry: () => true,
  retryWait: async (retries) => {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 8_000)));
  },
  on: {
    connecting: () => useLinkStatus.setState({ status: "connecting" }),
    connected: () => {
      const { reconnects } = useLinkStatus.getState();
      // Events may have been missed while the socket was down: listeners refetch on this.
      useLinkStatus.setState({ status: "live", reconnects: connectedOnce ? reconnects + 1 : 0 });
      connectedOnce = true;
    },
    closed: () => useLinkStatus.setState({ status: "offline" }),
  },
});

export const client = new Client({
  url: "/graphql",
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? "" };
        return {
          subscribe(sink) {
            const dispose = wsClient.subscribe(input, sink);
            return { unsubscribe: dispose };
          },
        };
      },
    }),
  ],
  // The backend's CSRF guard asks for a non-simple header on every POST (uploads included).
  fetchOptions: () => ({ headers: { "Apollo-Require-Preflight": "true", ...authorizationHeader() } }),
  requestPolicy: "cache-and-network",
});
