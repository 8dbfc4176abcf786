import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { Sources } from "./Sources";

const PASSAGES = [
  { documentId: "d1", filename: "rover-manual.pdf", page: 2, chunk: 0, score: 0.91, text: "The battery lasts 42 hours.", ocr: false },
  { documentId: "d1", filename: "rover-manual.pdf", page: null, chunk: 3, score: 0.5, text: "Charge it overnight.", ocr: true },
];

describe("Sources", () => {
  it("counts the passages an answer cites, and lists them when opened: file, page, relevance", async () => {
    const user = userEvent.setup();
    render(<Sources sources={PASSAGES} />);
    const toggle = screen.getByRole("button", { name: "2 sources" });
    expect(screen.queryByRole("list", { name: "Sources" })).toBeNull();
    await user.click(toggle);
    const items = within(screen.getByRole("list", { name: "Sources" })).getAllByRole("listitem");
    expect(items.map((li) => within(li).getAllByRole("button")[0].textContent)).toEqual(["1rover-manual.pdfp. 291%", "2rover-manual.pdfOCR50%"]);
  });

  it("marks a passage read from a scanned page by OCR", async () => {
    const user = userEvent.setup();
    render(<Sources sources={PASSAGES} />);
    await user.click(screen.getByRole("button", { name: "2 sources" }));
    const items = within(screen.getByRole("list", { name: "Sources" })).getAllByRole("listitem");
    expect(within(items[1]).getByText("OCR").getAttribute("title")).toMatch(/scanned page/);
    expect(within(items[0]).queryByText("OCR")).toBeNull();
  });

  it("opens a passage to its full text", async () => {
    const user = userEvent.setup();
    render(<Sources sources={PASSAGES} />);
    await user.click(screen.getByRole("button", { name: "2 sources" }));
    const passage = screen.getByRole("button", { name: /^1rover-manual/ });
    expect(passage.getAttribute("aria-expanded")).toBe("false");
    await user.click(passage);
    expect(passage.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByText("The battery lasts 42 hours.").className).not.toContain("line-clamp-2");
  });

  it("shows nothing for an answer without sources", () => {
    const { container } = render(<Sources sources={[]} />);
    expect(container.innerHTML).toBe("");
  });
});
