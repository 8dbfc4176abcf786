import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { EmbedDialog } from "./EmbedDialog";

function embedToken(id: string, name: string, origins: string[]) {
  return { id, name, allowedOrigins: origins, createdAt: "2026-11-30T10:00:00Z", lastUsedAt: null, revokedAt: null as string | null };
}

function setup({ published = true } = {}) {
  let tokens = [embedToken("t1", "Blog", ["https://blog.example.org"])];
  const scripted = scriptedClient({
    PublishableTokens: () => ({ publishableTokens: tokens }),
    CreatePublishableToken: (vars) => {
      const made = embedToken("t2", String(vars.name), vars.allowedOrigins as string[]);
      tokens = [...tokens, made];
      return { createPublishableToken: { token: "gsp_public", apiToken: { __typename: "ApiToken", id: "t2", allowedOrigins: made.allowedOrigins } } };
    },
    RevokeEmbedToken: (vars) => {
      tokens = tokens.map((t) => (t.id === vars.id ? { ...t, revokedAt: "2026-12-01T00:00:00Z" } : t));
      return { revokeApiToken: { id: vars.id, revokedAt: "2026-12-01T00:00:00Z" } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <EmbedDialog stackId="stack-1" published={published} onClose={() => undefined} />
    </Provider>,
  );
  return scripted;
}

describe("the Embed dialog", () => {
  it("makes a snippet for the sites listed, with this server's embed.js and the new token", async () => {
    const scripted = setup();
    await userEvent.click(screen.getByLabelText(/Sites allowed/));
    await userEvent.paste("https://shop.example.com\nhttps://shop.example.com, https://help.example.com");
    await userEvent.click(screen.getByRole("button", { name: "Create snippet" }));
    const snippet = await screen.findByTestId("embed-snippet");
    expect(snippet.textContent).toBe(
      `<script src="${window.location.origin}/embed.js" data-stack="stack-1" data-token="gsp_public" async></script>`,
    );
    expect(scripted.sent.find((s) => s.op === "CreatePublishableToken")?.vars).toEqual({
      stackId: "stack-1",
      name: "Website",
      allowedOrigins: ["https://shop.example.com", "https://help.example.com"],
    });
    const list = screen.getByRole("region", { name: "Snippets made for this stack" });
    expect(within(list).getByText("https://blog.example.org")).toBeTruthy();
  }, 20_000); // a dialog, a query and a mutation through urql: slow on a busy machine

  it("revokes a snippet's token", async () => {
    setup();
    await userEvent.click(await screen.findByRole("button", { name: "Revoke Blog" }));
    expect(await screen.findByText("Revoked")).toBeTruthy();
  }, 20_000);

  it("asks for a Build first when nothing is published", async () => {
    setup({ published: false });
    expect(screen.getByRole("status").textContent).toMatch(/Build the stack first/);
    expect(screen.queryByRole("button", { name: "Create snippet" })).toBeNull();
  });
});
