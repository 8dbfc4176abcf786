import { graphql } from "../../gql";

export const StacksQuery = graphql(`
  query Stacks {
    workflows {
      id
      name
      description
      version
      createdAt
      updatedAt
      nodes {
        id
        kind
      }
      latestPublishedVersion
    }
  }
`);

export const CreateStackMutation = graphql(`
  mutation CreateStack($name: String!, $description: String) {
    createWorkflow(name: $name, description: $description) {
      id
      name
      description
      version
      createdAt
      updatedAt
    }
  }
`);

export const RenameStackMutation = graphql(`
  mutation RenameStack($id: UUID!, $name: String!, $expectedVersion: Int) {
    renameWorkflow(id: $id, name: $name, expectedVersion: $expectedVersion) {
      id
      name
      version
      updatedAt
    }
  }
`);

export const DescribeStackMutation = graphql(`
  mutation DescribeStack($id: UUID!, $description: String!, $expectedVersion: Int) {
    describeWorkflow(id: $id, description: $description, expectedVersion: $expectedVersion) {
      id
      description
      version
      updatedAt
    }
  }
`);

export const DeleteStackMutation = graphql(`
  mutation DeleteStack($id: UUID!) {
    deleteWorkflow(id: $id)
  }
`);

export const TemplatesQuery = graphql(`
  query Templates {
    templates {
      id
      title
      description
      kinds
      needs {
        provider
        description
        provided
      }
    }
  }
`);

export const CreateFromTemplateMutation = graphql(`
  mutation CreateStackFromTemplate($templateId: String!, $name: String) {
    createStackFromTemplate(templateId: $templateId, name: $name) {
      id
      name
    }
  }
`);

export const ImportStackMutation = graphql(`
  mutation ImportStack($file: Upload!, $name: String) {
    importStack(file: $file, name: $name) {
      workflow {
        id
        name
      }
      documents {
        id
        filename
      }
      keysToReenter {
        nodeId
        label
        setting
      }
      documentsLeftOut
    }
  }
`);
