import { graphql } from "../../gql";

export const ChatMessageFieldsFragment = graphql(`
  fragment ChatMessageFields on ChatMessage {
    id
    role
    content
    createdAt
    sources {
      documentId
      filename
      page
      chunk
      score
      text
      ocr
    }
    webSources {
      title
      url
      snippet
    }
    status
    replyTo
    error {
      code
      message
    }
    workflowVersion
    publishedVersion
    feedback {
      rating
      note
    }
  }
`);

export const ChatSessionFieldsFragment = graphql(`
  fragment ChatSessionFields on ChatSession {
    id
    workflowId
    publishedVersion
    draft
    createdAt
    messages {
      ...ChatMessageFields
    }
  }
`);

export const ChatSessionsQuery = graphql(`
  query ChatSessions($workflowId: UUID!) {
    chatSessions(workflowId: $workflowId) {
      id
      publishedVersion
      draft
      createdAt
      messages {
        id
        role
        content
      }
    }
  }
`);

export const ChatSessionQuery = graphql(`
  query ChatSession($id: UUID!) {
    chatSession(id: $id) {
      ...ChatSessionFields
    }
  }
`);

export const StartChatMutation = graphql(`
  mutation StartChat($workflowId: UUID!, $publishedVersion: Int, $draft: Boolean!) {
    startChat(workflowId: $workflowId, publishedVersion: $publishedVersion, draft: $draft) {
      ...ChatSessionFields
    }
  }
`);

export const SendMessageMutation = graphql(`
  mutation SendMessage($sessionId: UUID!, $content: String!) {
    sendMessage(sessionId: $sessionId, content: $content) {
      ...ChatMessageFields
    }
  }
`);

export const ChatEventsSubscription = graphql(`
  subscription ChatEvents($sessionId: UUID!) {
    chatEvents(sessionId: $sessionId) {
      __typename
      ... on ChatMessageAdded {
        sessionId
        message {
          ...ChatMessageFields
        }
      }
      ... on ChatThinking {
        sessionId
        stage
      }
      ... on ChatToken {
        sessionId
        messageId
        delta
      }
      ... on ChatFailed {
        sessionId
        questionId
        code
        reason: message
        workflowVersion
        publishedVersion
      }
      ... on ChatListening {
        sessionId
        version
      }
    }
  }
`);

export const RateAnswerMutation = graphql(`
  mutation RateAnswer($sessionId: UUID!, $messageId: UUID!, $rating: AnswerRating, $note: String!) {
    rateAnswer(sessionId: $sessionId, messageId: $messageId, rating: $rating, note: $note) {
      messageId
      rating
      note
    }
  }
`);
