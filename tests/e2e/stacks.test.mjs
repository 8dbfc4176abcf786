// My Stacks: create, describe (from the builder's header), edit and delete from the cards;
// the empty state comes back.
import { test } from "node:test";
import { appAndBrowser, eventually, screenshot } from "./helpers.mjs";

const session = appAndBrowser();

test("stacks are created, described, edited and deleted from My Stacks", async () => {
  const { page } = session.browser;
  await page.goto(session.app.baseUrl + "/");
  await page.getByText("Build your first stack").waitFor();

  // An empty name is refused with a message, in place.
  await page.getByRole("button", { name: "Create a stack" }).click();
  const name = page.getByRole("textbox", { name: "Name", exact: true });
  // the dialog moves the focus once it has opened: give a loaded machine a moment
  await eventually(() => name.evaluate((el) => el === document.activeElement), { message: "the name field has the focus" });
  await page.getByRole("button", { name: "Create stack" }).click();
  await page.getByText("Give your stack a name.").waitFor();
  await name.fill("Policies");
  await page.getByRole("button", { name: "Create stack" }).click();
  await page.waitForURL(/\/stacks\//);

  // The builder's header describes it, under its name.
  await page.getByRole("button", { name: "Add a description" }).click();
  await page.getByRole("dialog").getByRole("textbox", { name: "Description" }).fill("Answers questions about leave.");
  await screenshot(page, "18-builder-description");
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  await page.getByRole("button", { name: "Edit description: Answers questions about leave." }).waitFor();
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();
  await page.getByRole("link", { name: "Back to My Stacks" }).click();

  const cards = page.getByRole("list", { name: "Stacks" });
  await cards.getByRole("link", { name: "Policies" }).waitFor();
  await cards.getByText("Answers questions about leave.").waitFor();
  await page.getByRole("button", { name: "Edit Policies" }).click();
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("HR policies");
  await page.getByRole("textbox", { name: "Description" }).fill("Answers questions about leave and expenses.");
  await screenshot(page, "19-edit-stack-dialog");
  await page.getByRole("button", { name: "Save" }).click();
  await cards.getByRole("link", { name: "HR policies" }).waitFor();
  await cards.getByText("Answers questions about leave and expenses.").waitFor();
  await screenshot(page, "17-my-stacks-renamed");

  await page.getByRole("button", { name: "Delete HR policies" }).click();
  await page.getByRole("dialog").getByText("Delete this stack?").waitFor();
  await page.getByRole("button", { name: "Delete stack" }).click();
  await page.getByText("Build your first stack").waitFor();

  // An address that names no stack says so instead of showing a blank page.
  await page.goto(session.app.baseUrl + "/stacks/00000000-0000-0000-0000-000000000000");
  await page.getByText("This stack doesn't exist").waitFor();
  await page.goto(session.app.baseUrl + "/no/such/page");
  await page.getByText("Page not found").waitFor();
});
