import { Client, makeErrorResult, makeResult, type Exchange, type Operation, type OperationResult } from "urql";
import { filter, fromPromise, makeSubject, merge, mergeMap, pipe, share, takeUntil, type Subject } from "wonka";
import type { Sent } from "./fakeClient";

export type Handler = (vars: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

function nameOf(op: Operation): string {
  const definition = op.query.definitions[0];
  return definition.kind === "OperationDefinition" ? (definition.name?.value ?? "?") : "?";
}

/**
 * A real urql Client (hooks, cache policies and all) whose network is a script: queries and
 * mutations are answered by `handlers[operationName]` (with an error result when it throws),
 * subscriptions get what the test `emit`s. Every operation sent is recorded, in order.
 */
export function scriptedClient(handlers: Record<string, Handler>) {
  const sent: Sent[] = [];
  const streams = new Map<string, { op: Operation; subject: Subject<OperationResult> }>();

  const exchange: Exchange =
    () =>
    (operations$) => {
      const shared = pipe(operations$, share);
      const teardowns = pipe(
        shared,
        filter((op) => op.kind === "teardown"),
      );
      const answered = pipe(
        shared,
        filter((op) => op.kind === "query" || op.kind === "mutation"),
        mergeMap((op) => {
          sent.push({ op: nameOf(op), vars: { ...op.variables } });
          const handler = handlers[nameOf(op)];
          if (!handler) return fromPromise(Promise.reject(new Error(`no handler for ${nameOf(op)}`)));
          // A handler that throws is the server (or the network) failing: an error result.
          const answer = (async () => handler({ ...op.variables }))();
          return fromPromise(answer.then((d) => makeResult(op, { data: d }), (error: Error) => makeErrorResult(op, error)));
        }),
      );
      const subscribed = pipe(
        shared,
        filter((op) => op.kind === "subscription"),
        mergeMap((op) => {
          sent.push({ op: nameOf(op), vars: { ...op.variables } });
          const subject = makeSubject<OperationResult>();
          streams.set(`${nameOf(op)}:${JSON.stringify(op.variables)}`, { op, subject });
          return pipe(
            subject.source,
            takeUntil(
              pipe(
                teardowns,
                filter((t) => t.key === op.key),
              ),
            ),
          );
        }),
      );
      return merge([answered, subscribed]);
    };

  const client = new Client({ url: "http://test/graphql", exchanges: [exchange] });

  /** Delivers one result to the open subscription `name` with these variables. */
  function emit(name: string, variables: Record<string, unknown>, data: Record<string, unknown>) {
    const stream = streams.get(`${name}:${JSON.stringify(variables)}`);
    if (!stream) throw new Error(`no subscription ${name} ${JSON.stringify(variables)}`);
    stream.subject.next(makeResult(stream.op, { data }));
  }

  return { client, sent, emit, ops: () => sent.map((s) => s.op) };
}
