import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";
import { graphqlWsUrl } from "./client";
import { describeError, errorCode, validationIssues } from "./errors";

function gqlError(message: string, extensions: Record<string, unknown>) {
  return new CombinedError({ graphQLErrors: [{ message, extensions }] });
}

describe("API errors", () => {
  it("reads the contract's extensions.code and issues", () => {
    const error = gqlError("Invalid workflow", {
      code: "INVALID_WORKFLOW",
      issues: [{ code: "NO_OUTPUT", message: "Add an Output", nodeId: null, edgeId: null }],
    });
    expect(errorCode(error)).toBe("INVALID_WORKFLOW");
    expect(validationIssues(error)).toHaveLength(1);
  });

  it("turns errors into sentences a person can act on", () => {
    expect(describeError(gqlError("Name must not be empty", { code: "BAD_USER_INPUT" }), "rename")).toBe("Couldn't rename: Name must not be empty");
    expect(describeError(gqlError("Traceback...", { code: "INTERNAL" }))).toBe("Something went wrong on the server.");
    expect(describeError(new CombinedError({ networkError: new Error("Failed to fetch") }))).toMatch(/Can't reach the server/);
  });

  it("opens the socket on the page's own origin and scheme", () => {
    expect(graphqlWsUrl({ protocol: "http:", host: "localhost:8000" })).toBe("ws://localhost:8000/graphql");
    expect(graphqlWsUrl({ protocol: "https:", host: "stack.example" })).toBe("wss://stack.example/graphql");
  });
});
