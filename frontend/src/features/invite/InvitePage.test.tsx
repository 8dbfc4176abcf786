import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { InvitePage } from "./InvitePage";

function setup(url: string, accept: (vars: Record<string, unknown>) => Record<string, unknown>) {
  const scripted = scriptedClient({ AcceptInvitation: accept });
  render(
    <Provider value={scripted.client}>
      <MemoryRouter initialEntries={[url]}>
        <InvitePage />
      </MemoryRouter>
    </Provider>,
  );
  return { ...scripted, user: userEvent.setup() };
}

describe("InvitePage", () => {
  it("joins the workspace of the link's token", async () => {
    const { user, sent } = setup("/invite?token=gsi_abc", () => ({ acceptInvitation: { id: "ws-1", name: "Team", role: "VIEWER" } }));
    await user.click(screen.getByRole("button", { name: "Join the workspace" }));
    expect(await screen.findByText("You joined Team")).toBeTruthy();
    expect(screen.getByText("You are a viewer of this workspace.")).toBeTruthy();
    expect(sent.filter((s) => s.op === "AcceptInvitation").map((s) => s.vars)).toEqual([{ token: "gsi_abc" }]);
  });

  it("says why a used invitation does not work", async () => {
    const { user } = setup("/invite?token=gsi_used", () => {
      throw new Error("no such invitation (it may have been used already)");
    });
    await user.click(screen.getByRole("button", { name: "Join the workspace" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/join the workspace|invitation/i);
  });

  it("asks for the whole link when it has no token", () => {
    setup("/invite", () => ({}));
    expect(screen.getByText("This link has no invitation")).toBeTruthy();
  });
});
