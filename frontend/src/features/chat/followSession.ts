import type { Client, CombinedError } from "urql";
import type { ChatSessionFieldsFragment } from "../../gql/graphql";
import type { ChatEvent } from "./chatReducer";
import { ChatEventsSubscription, ChatSessionQuery } from "./operations";

export interface SessionRead {
  session: ChatSessionFieldsFragment | null;
  error?: CombinedError;
}

export interface SessionListener {
  event: (event: ChatEvent) => void;
  read: (result: SessionRead) => void;
}

export interface SessionFeed {
  /** Reads the stored session again (the socket came back: events may have been missed). */
  resync: () => void;
  close: () => void;
}

/**
 * Follows one chat session: subscribes to its chatEvents first, then reads it, so that
 * whatever happens after the read is heard. The server joins a subscription a moment after
 * the client asks for it, and says nothing when it has: a read made before the first event
 * is heard may predate the server's joining, so it is made again once something is heard
 * (everything since is on the stream). Reads and events overlap; the reducer merges them by
 * message id.
 */
export function followSession(client: Client, sessionId: string, on: SessionListener): SessionFeed {
  let closed = false;
  let heard = false;
  let unconfirmed = false;

  // One read at a time: a read asked for while another is out must be a new request (urql
  // would hand back the one in flight, which may predate the server's joining).
  let reading: Promise<void> = Promise.resolve();
  const read = () => {
    if (!heard) unconfirmed = true;
    reading = reading.then(async () => {
      if (closed) return;
      const result = await client.query(ChatSessionQuery, { id: sessionId }, { requestPolicy: "network-only" }).toPromise();
      if (!closed) on.read({ session: result.data?.chatSession ?? null, error: result.error });
    });
  };

  const subscription = client.subscription(ChatEventsSubscription, { sessionId }).subscribe((result) => {
    const event = result.data?.chatEvents;
    if (closed || !event) return;
    on.event(event);
    if (heard) return;
    heard = true;
    if (unconfirmed) {
      unconfirmed = false;
      read();
    }
  });
  read();

  return {
    resync: () => {
      heard = false; // the subscription is made again on the new socket
      read();
    },
    close: () => {
      closed = true;
      subscription.unsubscribe();
    },
  };
}
