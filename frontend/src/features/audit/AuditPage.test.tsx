import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { AuditPage, PAGE_SIZE, exportUrl, instant, kindLabel, NO_FILTERS } from "./AuditPage";

const WORKSPACE = { id: "ws-1", name: "Team", role: "ADMIN" };
const ADA = { id: "u-ada", name: "Ada Lovelace" };
const BOB = { id: "u-bob", name: "Bob Builder" };
const STACK = { id: "s-1", name: "Helpdesk" };

function entry(position: number, actor: typeof ADA, kind: string, summary: string, stack: typeof STACK | null = null) {
  return { position: String(position), at: "2026-12-01T10:00:00Z", actor, kind, subject: stack ? "stack" : "workspace", stack, summary };
}

// 60 entries, newest first: two pages of PAGE_SIZE
const ALL = Array.from({ length: 60 }, (_, i) => {
  const position = 60 - i;
  return position % 2 === 0
    ? entry(position, ADA, "NodeConfigured", `Change ${position}`, STACK)
    : entry(position, BOB, "MemberRoleChanged", `Change ${position}`);
});

function setup(workspaces = [WORKSPACE]) {
  const scripted = scriptedClient({
    AdminWorkspaces: () => ({ workspaces }),
    AuditFilters: () => ({ auditFilters: { actors: [ADA, BOB], stacks: [STACK], kinds: ["MemberRoleChanged", "NodeConfigured"] } }),
    AuditLog: (vars) => {
      let matching = ALL.filter((e) => (!vars.actor || e.actor.id === vars.actor) && (!vars.kinds || (vars.kinds as string[]).includes(e.kind)));
      if (vars.after) matching = matching.filter((e) => Number(e.position) < Number(vars.after));
      const page = matching.slice(0, vars.limit as number);
      const more = matching.length > page.length;
      return { auditLog: { entries: page, nextCursor: more ? page[page.length - 1].position : null } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <MemoryRouter>
        <AuditPage />
      </MemoryRouter>
    </Provider>,
  );
  return { ...scripted, user: userEvent.setup() };
}

function rows() {
  return within(screen.getByRole("table", { name: "Audit log" })).getAllByRole("row").slice(1);
}

afterEach(() => vi.unstubAllGlobals());

// a page of 50 rows takes a while to render on a busy machine
describe("AuditPage", { timeout: 30_000 }, () => {
  it("shows the newest changes with who, what, stack and summary", async () => {
    setup();
    expect(await screen.findByText("Change 60")).toBeTruthy();
    const first = rows()[0];
    expect(within(first).getByText("Ada Lovelace")).toBeTruthy();
    expect(within(first).getByText("Node configured")).toBeTruthy();
    expect(within(first).getByRole("link", { name: "Helpdesk" }).getAttribute("href")).toBe("/stacks/s-1");
    expect(within(rows()[1]).getByText("Workspace")).toBeTruthy();
    expect(rows()).toHaveLength(PAGE_SIZE);
  });

  it("pages older and back to newer by cursor", async () => {
    const { user, sent } = setup();
    await screen.findByText("Change 60");
    expect(screen.getByRole("button", { name: "Newer" })).toHaveProperty("disabled", true);
    await user.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByText("Change 10")).toBeTruthy();
    expect(rows()).toHaveLength(10);
    expect(screen.getByText("Page 2")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Older" })).toHaveProperty("disabled", true);
    expect(sent.filter((s) => s.op === "AuditLog").at(-1)?.vars.after).toBe("11");

    await user.click(screen.getByRole("button", { name: "Newer" }));
    expect(await screen.findByText("Change 60")).toBeTruthy();
    expect(screen.getByText("Page 1")).toBeTruthy();
  });

  it("filters by who and what, from the first page again", async () => {
    const { user, sent } = setup();
    await screen.findByText("Change 60");
    await user.click(screen.getByRole("button", { name: "Older" }));
    await screen.findByText("Page 2");

    await screen.findByRole("option", { name: "Bob Builder" });
    await user.selectOptions(screen.getByLabelText("Who"), "Bob Builder");
    expect(await screen.findByText("Change 59")).toBeTruthy();
    expect(screen.getByText("Page 1")).toBeTruthy();
    expect(rows().every((row) => within(row).queryByText("Bob Builder"))).toBe(true);
    expect(sent.filter((s) => s.op === "AuditLog").at(-1)?.vars).toMatchObject({ actor: "u-bob", after: null, kinds: null });

    await user.selectOptions(screen.getByLabelText("What"), "Node configured");
    expect(await screen.findByText("Nothing here")).toBeTruthy();
    expect(sent.filter((s) => s.op === "AuditLog").at(-1)?.vars).toMatchObject({ actor: "u-bob", kinds: ["NodeConfigured"] });

    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(await screen.findByText("Change 60")).toBeTruthy();
  });

  it("exports the filtered log as JSON Lines with the session's credentials", async () => {
    const fetch = vi.fn(async () => new Response('{"position":1}\n', { status: 200, headers: { "content-disposition": 'attachment; filename="audit-1.jsonl"' } }));
    const createObjectURL = vi.fn(() => "blob:audit");
    vi.stubGlobal("fetch", fetch);
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() }));
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    const { user } = setup();
    await screen.findByRole("option", { name: "Bob Builder" });
    await user.selectOptions(screen.getByLabelText("Who"), "Bob Builder");
    await user.click(screen.getByRole("button", { name: "Export JSON Lines" }));
    await vi.waitFor(() => expect(clicked).toEqual(["audit-1.jsonl"]));
    expect(fetch).toHaveBeenCalledWith("/audit/export.jsonl?workspace=ws-1&actor=u-bob", expect.anything());
  });

  it("says why an export was refused", async () => {
    const body = { errors: [{ message: "your role in this workspace does not allow read_audit", extensions: { code: "FORBIDDEN" } }] };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 403 })));
    const { user } = setup();
    await screen.findByText("Change 60");
    await user.click(screen.getByRole("button", { name: "Export JSON Lines" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Your role in this workspace does not allow read_audit.");
  });

  it("tells a member who administers no workspace to ask an admin", async () => {
    setup([{ ...WORKSPACE, role: "EDITOR" }]);
    expect(await screen.findByText("Only admins read the audit log")).toBeTruthy();
  });

  it("builds the export address and times from the filters", () => {
    expect(exportUrl("ws-1", NO_FILTERS)).toBe("/audit/export.jsonl?workspace=ws-1");
    const from = "2026-12-01T10:00";
    const url = exportUrl("ws-1", { ...NO_FILTERS, stackId: "s-1", kind: "NodeAdded", from });
    expect(url).toBe(`/audit/export.jsonl?workspace=ws-1&stack=s-1&kind=NodeAdded&from=${encodeURIComponent(new Date(from).toISOString())}`);
    expect(instant("")).toBeNull();
    expect(instant("not a time")).toBeNull();
    expect(kindLabel("MemberRoleChanged")).toBe("Member role changed");
  });
});
