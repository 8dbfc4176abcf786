import type { CombinedError } from "urql";

export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "INVALID_WORKFLOW"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PROVIDER_ERROR"
  | "INTERNAL"
  | "NETWORK";

export interface IssueFromApi {
  code: string;
  message: string;
  nodeId?: string | null;
  edgeId?: string | null;
}

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

function firstGraphQLError(error: CombinedError | GraphQLErrorLike[]): GraphQLErrorLike | undefined {
  return Array.isArray(error) ? error[0] : error.graphQLErrors[0];
}

export function errorCode(error: CombinedError): ErrorCode {
  if (error.networkError && error.graphQLErrors.length === 0) return "NETWORK";
  const code = firstGraphQLError(error)?.extensions?.code;
  return typeof code === "string" ? (code as ErrorCode) : "INTERNAL";
}

export function validationIssues(error: CombinedError): IssueFromApi[] {
  const issues = firstGraphQLError(error)?.extensions?.issues;
  return Array.isArray(issues) ? (issues as IssueFromApi[]) : [];
}

const FALLBACK: Record<ErrorCode, string> = {
  BAD_USER_INPUT: "Some of what was entered isn't valid.",
  NOT_FOUND: "That no longer exists — it may have been deleted.",
  CONFLICT: "Someone else changed this stack at the same time. It has been refreshed.",
  INVALID_WORKFLOW: "The stack isn't complete yet.",
  UNAUTHENTICATED: "Please sign in again.",
  FORBIDDEN: "You aren't allowed to do that.",
  RATE_LIMITED: "Too many requests — wait a moment and try again.",
  PAYLOAD_TOO_LARGE: "That file is too large.",
  UNSUPPORTED_MEDIA_TYPE: "Only PDF files can be uploaded.",
  PROVIDER_ERROR: "The AI provider returned an error.",
  INTERNAL: "Something went wrong on the server.",
  NETWORK: "Can't reach the server. Check that it is running, then try again.",
};

/** A sentence a person can act on; the server's own message when it gave one. */
export function describeError(error: CombinedError, action?: string): string {
  const code = errorCode(error);
  const serverMessage = firstGraphQLError(error)?.message;
  const useServer = serverMessage && code !== "INTERNAL" && code !== "NETWORK" && code !== "CONFLICT";
  const detail = useServer ? serverMessage : FALLBACK[code];
  return action ? `Couldn't ${action}: ${detail}` : detail;
}
