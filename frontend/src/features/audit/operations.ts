import { graphql } from "../../gql";

export const AuditFiltersQuery = graphql(`
  query AuditFilters($workspaceId: UUID!) {
    auditFilters(workspaceId: $workspaceId) {
      actors {
        id
        name
      }
      stacks {
        id
        name
      }
      kinds
    }
  }
`);

export const AuditLogQuery = graphql(`
  query AuditLog(
    $workspaceId: UUID!
    $actor: String
    $stackId: UUID
    $kinds: [String!]
    $since: DateTime
    $until: DateTime
    $after: String
    $limit: Int!
  ) {
    auditLog(
      workspaceId: $workspaceId
      actor: $actor
      stackId: $stackId
      kinds: $kinds
      since: $since
      until: $until
      after: $after
      limit: $limit
    ) {
      entries {
        position
        at
        actor {
          id
          name
        }
        kind
        subject
        stack {
          id
          name
        }
        summary
      }
      nextCursor
    }
  }
`);
