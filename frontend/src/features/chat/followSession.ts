import type { Client, CombinedError } from "urql";
import type { ChatSessionFieldsFragment } from "../../gql/graphql";
import type { ChatEvent } from "./chatReducer";
import { ChatEventsSubscription, ChatSessionQuery } from "./operations";

export interface SessionRead {
  session: ChatSessionFieldsFragment | null;
  /** The read failed, or the server would not listen to the session: not in sync. */
  error?: CombinedError;
}

export interface SessionListener {
  event: (event: ChatEvent) => void;
  /** A read of the session, made after the server said it listens (or said it would not). */
  read: (result: SessionRead) => void;
}

/**
 * Follows one chat session: subscribes to its chatEvents, and reads the session each time the
 * server says it listens (ChatListening: the subscription's first event, and the first again
 * when the socket came back and the subscription was made anew). Every change after that
 * moment comes as an event, so such a read misses nothing; a read made before it could miss
 * a whole question and answer, so none is made. Reads and events overlap; the reducer merges
 * them by message id. Returns the function that stops following.
 */
export function followSession(client: Client, sessionId: string, on: SessionListener): () => void {
  let closed = false;

  // One read at a time: a read asked for while another is out must be a new request (urql
  // would hand back the one in flight, which may predate the server's listening again).
  let reading: Promise<void> = Promise.resolve();
  const read = (unheard?: CombinedError) => {
    reading = reading.then(async () => {
      if (closed) return;
      const result = await client.query(ChatSessionQuery, { id: sessionId }, { requestPolicy: "network-only" }).toPromise();
      const session = result.data?.chatSession ?? null;
      // A session that is missing is that, not an error; one that exists but is not listened to is.
      if (!closed) on.read({ session, error: result.error ?? (session ? unheard : undefined) });
    });
  };

  const subscription = client.subscription(ChatEventsSubscription, { sessionId }).subscribe((result) => {
    if (closed) return;
    const event = result.data?.chatEvents;
    if (event?.__typename === "ChatListening") read();
    else if (event) on.event(event);
    else if (result.error) read(result.error); // refused (e.g. no such session): say what there is
  });

  return () => {
    closed = true;
    subscription.unsubscribe();
  };
}
