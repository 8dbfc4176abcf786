import { graphql } from "../../gql";

export const WorkspaceBudgetQuery = graphql(`
  query WorkspaceBudget($workspaceId: UUID!) {
    workspaceBudget(workspaceId: $workspaceId) {
      workspaceId
      monthlyTokens
      monthlyCostUsd
      month
      usedTokens
      usedCostUsd
      exceeded
    }
  }
`);

export const SetWorkspaceBudgetMutation = graphql(`
  mutation SetWorkspaceBudget($workspaceId: UUID!, $monthlyTokens: Int, $monthlyCostUsd: Float) {
    setWorkspaceBudget(workspaceId: $workspaceId, monthlyTokens: $monthlyTokens, monthlyCostUsd: $monthlyCostUsd) {
      workspaceId
      monthlyTokens
      monthlyCostUsd
      month
      usedTokens
      usedCostUsd
      exceeded
    }
  }
`);
