import { graphql } from "../../gql";

export const PublishableTokensQuery = graphql(`
  query PublishableTokens($stackId: UUID!) {
    publishableTokens(stackId: $stackId) {
      id
      name
      allowedOrigins
      createdAt
      lastUsedAt
      revokedAt
    }
  }
`);

export const CreatePublishableTokenMutation = graphql(`
  mutation CreatePublishableToken($stackId: UUID!, $name: String!, $allowedOrigins: [String!]!) {
    createPublishableToken(stackId: $stackId, name: $name, allowedOrigins: $allowedOrigins) {
      token
      apiToken {
        id
        allowedOrigins
      }
    }
  }
`);

export const RevokeEmbedTokenMutation = graphql(`
  mutation RevokeEmbedToken($id: UUID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`);
