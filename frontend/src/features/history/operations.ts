import { graphql } from "../../gql";

export const HistoryQuery = graphql(`
  query WorkflowHistory($id: UUID!) {
    workflowHistory(id: $id, withDocuments: true) {
      id
      version
      type
      timestamp
      actor
      actorName
      summary
      category
      publishedVersion
      undone
      documentId
      changes {
        field
        label
        text
        nodeId
      }
    }
  }
`);

export const VersionQuery = graphql(`
  query WorkflowAtVersion($id: UUID!, $version: Int!, $current: Int!) {
    workflow(id: $id, version: $version) {
      ...WorkflowGraph
    }
    workflowDiff(id: $id, fromVersion: $version, toVersion: $current) {
      fromVersion
      toVersion
      addedNodes {
        id
        kind
        label
        position {
          x
          y
        }
        config
      }
      removedNodes {
        id
      }
      changedNodes {
        id
      }
      addedEdges {
        id
        source
        target
        sourceHandle
        targetHandle
      }
      removedEdges {
        id
      }
    }
  }
`);

export const CompareQuery = graphql(`
  query CompareVersions($id: UUID!, $from: Int!, $to: Int!) {
    workflowDiff(id: $id, fromVersion: $from, toVersion: $to) {
      fromVersion
      toVersion
      fromLabel
      toLabel
      stackChanges {
        field
        label
        before
        after
        text
      }
      nodeChanges {
        nodeId
        kind
        label
        status
        fields {
          field
          label
          before
          after
          text
        }
      }
      edgeChanges {
        edgeId
        status
        text
        connection
      }
    }
  }
`);

export const RollbackMutation = graphql(`
  mutation RollbackWorkflow($workflowId: UUID!, $toVersion: Int!) {
    rollbackWorkflow(workflowId: $workflowId, toVersion: $toVersion) {
      ...WorkflowGraph
    }
  }
`);
