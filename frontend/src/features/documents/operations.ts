import { graphql } from "../../gql";

export const DocumentFieldsFragment = graphql(`
  fragment DocumentFields on Document {
    id
    workflowId
    nodeId
    filename
    sizeBytes
    status
    pageCount
    chunkCount
    error
    failedStage
    createdAt
    updatedAt
    indexes {
      key
      status
      chunkCount
      chunkSize
      chunkOverlap
      embeddingModel
      draft
      live
    }
    progress {
      stage
      indexKey
      pagesExtracted
      pageTotal
      chunksEmbedded
      chunkTotal
      fraction
    }
  }
`);

export const DocumentsQuery = graphql(`
  query WorkflowDocuments($id: UUID!) {
    workflow(id: $id) {
      id
      documents {
        ...DocumentFields
      }
    }
  }
`);

export const DocumentEventsSubscription = graphql(`
  subscription DocumentEvents($workflowId: UUID!) {
    documentEvents(workflowId: $workflowId) {
      ...DocumentFields
    }
  }
`);

export const UploadDocumentMutation = graphql(`
  mutation UploadDocument($workflowId: UUID!, $file: Upload!, $nodeId: String) {
    uploadDocument(workflowId: $workflowId, file: $file, nodeId: $nodeId) {
      ...DocumentFields
    }
  }
`);

export const RemoveDocumentMutation = graphql(`
  mutation RemoveDocument($id: UUID!) {
    removeDocument(id: $id)
  }
`);

export const ReindexDocumentMutation = graphql(`
  mutation ReindexDocument($id: UUID!) {
    reindexDocument(id: $id) {
      ...DocumentFields
    }
  }
`);
