import { graphql } from "../../gql";

export const WorkflowGraphFragment = graphql(`
  fragment WorkflowGraph on Workflow {
    id
    name
    description
    version
    updatedAt
    nodes {
      id
      kind
      label
      position {
        x
        y
      }
      config
    }
    edges {
      id
      source
      target
      sourceHandle
      targetHandle
    }
    validation {
      valid
      issues {
        code
        message
        nodeId
        edgeId
      }
    }
    publishedVersions {
      number
      workflowVersion
      publishedAt
      note
    }
    latestPublishedVersion
    unpublishedChanges
    undo {
      canUndo
      canRedo
      undoLabel
      redoLabel
    }
  }
`);

export const BuilderQuery = graphql(`
  query Builder($id: UUID!) {
    workflow(id: $id) {
      ...WorkflowGraph
    }
    components {
      kind
      title
      description
      inputs
      outputs
      configSchema
    }
  }
`);

export const WorkflowQuery = graphql(`
  query WorkflowRefresh($id: UUID!) {
    workflow(id: $id) {
      ...WorkflowGraph
    }
  }
`);

export const WorkflowEventsSubscription = graphql(`
  subscription WorkflowEvents($workflowId: UUID!) {
    workflowEvents(workflowId: $workflowId) {
      workflowId
      version
      type
      actor
      timestamp
    }
  }
`);

export const AddNodeMutation = graphql(`
  mutation AddNode($workflowId: UUID!, $kind: NodeKind!, $position: PositionInput!, $nodeId: String) {
    addNode(workflowId: $workflowId, kind: $kind, position: $position, nodeId: $nodeId) {
      ...WorkflowGraph
    }
  }
`);

export const MoveNodeMutation = graphql(`
  mutation MoveNode($workflowId: UUID!, $nodeId: String!, $position: PositionInput!) {
    moveNode(workflowId: $workflowId, nodeId: $nodeId, position: $position) {
      ...WorkflowGraph
    }
  }
`);

export const RelabelNodeMutation = graphql(`
  mutation RelabelNode($workflowId: UUID!, $nodeId: String!, $label: String!, $expectedVersion: Int) {
    relabelNode(workflowId: $workflowId, nodeId: $nodeId, label: $label, expectedVersion: $expectedVersion) {
      ...WorkflowGraph
    }
  }
`);

export const ConfigureNodeMutation = graphql(`
  mutation ConfigureNode($workflowId: UUID!, $nodeId: String!, $config: JSON!, $expectedVersion: Int) {
    configureNode(workflowId: $workflowId, nodeId: $nodeId, config: $config, expectedVersion: $expectedVersion) {
      ...WorkflowGraph
    }
  }
`);

export const RemoveNodeMutation = graphql(`
  mutation RemoveNode($workflowId: UUID!, $nodeId: String!) {
    removeNode(workflowId: $workflowId, nodeId: $nodeId) {
      ...WorkflowGraph
    }
  }
`);

export const ConnectNodesMutation = graphql(`
  mutation ConnectNodes(
    $workflowId: UUID!
    $source: String!
    $target: String!
    $sourceHandle: String
    $targetHandle: String
    $edgeId: String
  ) {
    connectNodes(
      workflowId: $workflowId
      source: $source
      target: $target
      sourceHandle: $sourceHandle
      targetHandle: $targetHandle
      edgeId: $edgeId
    ) {
      ...WorkflowGraph
    }
  }
`);

export const DisconnectNodesMutation = graphql(`
  mutation DisconnectNodes($workflowId: UUID!, $edgeId: String!) {
    disconnectNodes(workflowId: $workflowId, edgeId: $edgeId) {
      ...WorkflowGraph
    }
  }
`);

export const RenameWorkflowMutation = graphql(`
  mutation RenameWorkflowInBuilder($id: UUID!, $name: String!, $expectedVersion: Int) {
    renameWorkflow(id: $id, name: $name, expectedVersion: $expectedVersion) {
      ...WorkflowGraph
    }
  }
`);

export const DescribeWorkflowMutation = graphql(`
  mutation DescribeWorkflowInBuilder($id: UUID!, $description: String!, $expectedVersion: Int) {
    describeWorkflow(id: $id, description: $description, expectedVersion: $expectedVersion) {
      ...WorkflowGraph
    }
  }
`);

export const UndoWorkflowMutation = graphql(`
  mutation UndoWorkflow($workflowId: UUID!) {
    undoWorkflow(workflowId: $workflowId) {
      ...WorkflowGraph
    }
  }
`);

export const RedoWorkflowMutation = graphql(`
  mutation RedoWorkflow($workflowId: UUID!) {
    redoWorkflow(workflowId: $workflowId) {
      ...WorkflowGraph
    }
  }
`);

export const PublishWorkflowMutation = graphql(`
  mutation PublishWorkflow($workflowId: UUID!, $note: String) {
    publishWorkflow(workflowId: $workflowId, note: $note) {
      number
      workflowVersion
      publishedAt
      note
    }
  }
`);

export const ProviderModelsQuery = graphql(`
  query ProviderModels($workflowId: UUID!, $provider: String!, $baseUrl: String) {
    providerModels(workflowId: $workflowId, provider: $provider, baseUrl: $baseUrl) {
      name
      parameterSize
      quantization
    }
  }
`);
