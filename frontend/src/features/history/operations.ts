import { graphql } from "../../gql";

export const HistoryQuery = graphql(`
  query WorkflowHistory($id: UUID!) {
    workflowHistory(id: $id) {
      workflowId
      version
      type
      timestamp
      actor
      data
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

export const RollbackMutation = graphql(`
  mutation RollbackWorkflow($workflowId: UUID!, $toVersion: Int!) {
    rollbackWorkflow(workflowId: $workflowId, toVersion: $toVersion) {
      ...WorkflowGraph
    }
  }
`);
