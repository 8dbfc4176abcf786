import { graphql } from "../../gql";

export const ApiTokensQuery = graphql(`
  query ApiTokens($workspaceId: UUID!) {
    apiTokens(workspaceId: $workspaceId) {
      id
      name
      scopes
      stackId
      allowedOrigins
      createdAt
      expiresAt
      revokedAt
      lastUsedAt
    }
  }
`);

export const CreateApiTokenMutation = graphql(`
  mutation CreateApiToken($workspaceId: UUID!, $name: String!, $scopes: [TokenScope!]!, $expiresAt: DateTime) {
    createApiToken(workspaceId: $workspaceId, name: $name, scopes: $scopes, expiresAt: $expiresAt) {
      token
      apiToken {
        id
        name
      }
    }
  }
`);

export const RevokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: UUID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`);
