import { graphql } from "../../gql";

/** The workspaces of the signed-in user, with their role: the admin pages offer those it administers. */
export const AdminWorkspacesQuery = graphql(`
  query AdminWorkspaces {
    workspaces {
      id
      name
      role
    }
  }
`);
