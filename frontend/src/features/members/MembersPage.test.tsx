import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { MembersPage, invitationLink } from "./MembersPage";

function setup(role = "ADMIN") {
  let invitations: Array<{ id: string; role: string; email: string | null }> = [];
  const scripted = scriptedClient({
    AdminWorkspaces: () => ({ workspaces: [{ id: "ws-1", name: "Team", role }] }),
    Members: () => ({ workspace: { id: "ws-1", members: [{ userId: "u-ada", email: "ada@example.com", role: "ADMIN" }], invitations } }),
    InviteMember: (vars) => {
      invitations = [{ id: "i-1", role: String(vars.role), email: (vars.email as string | null) ?? null }];
      return { inviteMember: { id: "i-1", token: "gsi_once" } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <MemoryRouter>
        <MembersPage />
      </MemoryRouter>
    </Provider>,
  );
  return { ...scripted, user: userEvent.setup() };
}

describe("MembersPage", () => {
  it("invites with a role and shows the link once", async () => {
    const { user, sent } = setup();
    expect(await screen.findByText("ada@example.com")).toBeTruthy();
    await user.type(screen.getByLabelText("Email (optional)"), "bob@example.com");
    await user.selectOptions(screen.getByLabelText("Role"), "EDITOR");
    await user.click(screen.getByRole("button", { name: "Invite" }));
    expect((await screen.findByTestId("invitation-link")).textContent).toBe(invitationLink(window.location.origin, "gsi_once"));
    expect(await screen.findByText("bob@example.com (invited)")).toBeTruthy();
    expect(sent.find((s) => s.op === "InviteMember")?.vars).toEqual({ workspaceId: "ws-1", role: "EDITOR", email: "bob@example.com" });
  });

  it("tells a member who administers no workspace to ask an admin", async () => {
    setup("VIEWER");
    expect(await screen.findByText("Only admins manage members")).toBeTruthy();
  });

  it("makes the link of a token", () => {
    expect(invitationLink("https://genai.example", "gsi_a+b")).toBe("https://genai.example/invite?token=gsi_a%2Bb");
  });
});
