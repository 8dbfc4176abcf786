import { graphql } from "../../gql";

export const StackFeedbackQuery = graphql(`
  query StackFeedback($workflowId: UUID!, $first: Int!, $offset: Int!) {
    feedback(workflowId: $workflowId, first: $first, offset: $offset) {
      up
      down
      offset
      hasMore
      ratedDown {
        question
        answer
        askedAt
        model
        publishedVersion
        feedback {
          messageId
          sessionId
          note
          actorName
          ratedAt
        }
      }
    }
  }
`);
