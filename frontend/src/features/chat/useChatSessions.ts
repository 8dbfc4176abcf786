import { useCallback } from "react";
import { useQuery } from "urql";
import { ChatSessionsQuery } from "./operations";

/** The stack's chat sessions, for the list beside the chat; `refresh` reads them again. */
export function useChatSessions(workflowId: string) {
  const [sessions, refetch] = useQuery({ query: ChatSessionsQuery, variables: { workflowId }, requestPolicy: "network-only" });
  const refresh = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  return { list: sessions.data?.chatSessions, fetching: sessions.fetching, error: sessions.error, refresh };
}
