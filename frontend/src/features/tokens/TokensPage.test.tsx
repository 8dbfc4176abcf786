import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { TokensPage, expiryFrom } from "./TokensPage";

const WORKSPACE = { id: "ws-1", name: "My workspace", role: "ADMIN" };

function token(id: string, name: string, revokedAt: string | null = null) {
  return {
    id,
    name,
    scopes: ["READ", "CHAT"],
    stackId: null,
    allowedOrigins: null,
    createdAt: "2026-11-30T10:00:00Z",
    expiresAt: null,
    revokedAt,
    lastUsedAt: null,
  };
}

function setup(workspaces = [WORKSPACE]) {
  let tokens = [token("t1", "nightly import")];
  const scripted = scriptedClient({
    AdminWorkspaces: () => ({ workspaces }),
    WorkspaceBudget: (vars) => ({
      workspaceBudget: {
        workspaceId: vars.workspaceId,
        monthlyTokens: null,
        monthlyCostUsd: null,
        month: "2026-12-01",
        usedTokens: 0,
        usedCostUsd: 0,
        exceeded: false,
      },
    }),
    ApiTokens: () => ({ apiTokens: tokens }),
    CreateApiToken: (vars) => {
      tokens = [...tokens, token("t2", String(vars.name))];
      return { createApiToken: { token: "gst_shown-once", apiToken: { id: "t2", name: vars.name } } };
    },
    RevokeApiToken: (vars) => {
      tokens = tokens.map((t) => (t.id === vars.id ? { ...t, revokedAt: "2026-12-01T00:00:00Z" } : t));
      return { revokeApiToken: { id: vars.id, revokedAt: "2026-12-01T00:00:00Z" } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <MemoryRouter>
        <TokensPage />
      </MemoryRouter>
    </Provider>,
  );
  return { ...scripted, user: userEvent.setup() };
}

describe("TokensPage", () => {
  it("creates a token with the chosen scopes and shows it once", async () => {
    const { user, sent } = setup();
    await user.type(await screen.findByLabelText(/Name/), "ci bot");
    await user.click(screen.getByLabelText("Chat"));
    await user.selectOptions(screen.getByLabelText("Expires"), "Never expires");
    await user.click(screen.getByRole("button", { name: "Create token" }));

    expect((await screen.findByTestId("new-token")).textContent).toBe("gst_shown-once");
    const created = sent.find((s) => s.op === "CreateApiToken");
    expect(created?.vars).toEqual({ workspaceId: "ws-1", name: "ci bot", scopes: ["READ", "CHAT"], expiresAt: null });
    expect(await screen.findByText("ci bot")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByText("gst_shown-once")).toBeNull(); // gone for good
  });

  it("revokes a token", async () => {
    const { user, sent } = setup();
    const row = (await screen.findByText("nightly import")).closest("tr")!;
    await user.click(within(row).getByRole("button", { name: "Revoke nightly import" }));
    expect(await within(row).findByText("Revoked")).toBeTruthy();
    expect(sent.filter((s) => s.op === "RevokeApiToken").map((s) => s.vars)).toEqual([{ id: "t1" }]);
  });

  it("tells a member who administers no workspace to ask an admin", async () => {
    setup([{ ...WORKSPACE, role: "EDITOR" }]);
    expect(await screen.findByText("Only admins manage tokens")).toBeTruthy();
  });

  it("computes expiry from the chosen lifetime", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    expect(expiryFrom(30, now)).toBe("2026-12-31T00:00:00.000Z");
    expect(expiryFrom(null, now)).toBeNull();
  });
});
