import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { BudgetPanel, monthName, parseLimit } from "./BudgetPanel";

function setup() {
  let budget = {
    workspaceId: "ws-1",
    monthlyTokens: 1500 as number | null,
    monthlyCostUsd: null as number | null,
    month: "2026-12-01",
    usedTokens: 2000,
    usedCostUsd: 0.42,
    exceeded: true,
  };
  const scripted = scriptedClient({
    WorkspaceBudget: () => ({ workspaceBudget: budget }),
    SetWorkspaceBudget: (vars) => {
      budget = {
        ...budget,
        monthlyTokens: vars.monthlyTokens as number | null,
        monthlyCostUsd: vars.monthlyCostUsd as number | null,
        exceeded: false,
      };
      return { setWorkspaceBudget: budget };
    },
  });
  render(
    <Provider value={scripted.client}>
      <BudgetPanel workspaceId="ws-1" />
    </Provider>,
  );
  return { ...scripted, user: userEvent.setup() };
}

describe("BudgetPanel", () => {
  it("shows the month's use against the budget", async () => {
    setup();
    const use = await screen.findByTestId("budget-use");
    expect(use.textContent).toContain("December 2026 so far: 2,000 tokens of 1,500, $0.42");
    expect(screen.getByText("Used up")).toBeTruthy();
  });

  it("raises the budget: an empty field is no limit", async () => {
    const { user, sent } = setup();
    const tokens = await screen.findByLabelText(/Tokens a month/);
    await user.clear(tokens);
    await user.type(screen.getByLabelText(/Cost a month/), "25.5");
    await user.click(screen.getByRole("button", { name: "Save budget" }));

    expect(await screen.findByText(/2,000 tokens, \$0.42 of \$25.50/)).toBeTruthy();
    expect(sent.find((s) => s.op === "SetWorkspaceBudget")?.vars).toEqual({ workspaceId: "ws-1", monthlyTokens: null, monthlyCostUsd: 25.5 });
    expect(screen.queryByText("Used up")).toBeNull();
  });

  it("refuses what is not a limit before sending it", async () => {
    const { user, sent } = setup();
    const tokens = await screen.findByLabelText(/Tokens a month/);
    await user.clear(tokens);
    await user.type(tokens, "1.5");
    await user.click(screen.getByRole("button", { name: "Save budget" }));

    expect((await screen.findByRole("alert")).textContent).toContain("Enter a number of 0 or more");
    expect(sent.some((s) => s.op === "SetWorkspaceBudget")).toBe(false);
  });

  it("reads limits and months", () => {
    expect(parseLimit("", true)).toBeNull();
    expect(parseLimit(" 1000 ", true)).toBe(1000);
    expect(parseLimit("-1", false)).toBeUndefined();
    expect(parseLimit("2.5", true)).toBeUndefined();
    expect(parseLimit("2.5", false)).toBe(2.5);
    expect(monthName("2026-01-01")).toBe("January 2026");
  });
});
