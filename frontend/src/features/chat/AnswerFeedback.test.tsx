import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { useToasts } from "../../ui/toasts";
import { AnswerFeedback, MAX_NOTE, type Rated } from "./AnswerFeedback";

const IDS = { sessionId: "s1", messageId: "m1" };

/** A server that keeps the rating as rateAnswer sets it (or refuses, when told to). */
function setup(initial: Rated | null = null, refuse = false) {
  const scripted = scriptedClient({
    RateAnswer: (vars) => {
      if (refuse) throw new Error("[GraphQL] there is no chat session s1");
      return { rateAnswer: { __typename: "AnswerFeedback", messageId: vars.messageId, rating: vars.rating ?? null, note: vars.rating ? vars.note : "" } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <AnswerFeedback {...IDS} initial={initial} />
    </Provider>,
  );
  const rates = () => scripted.sent.filter((s) => s.op === "RateAnswer").map((s) => s.vars);
  return { rates };
}

const up = () => screen.getByRole("button", { name: "Good answer" });
const down = () => screen.getByRole("button", { name: "Bad answer" });

describe("AnswerFeedback", () => {
  it("rates an answer up at once, and pressing it again takes the rating back", async () => {
    const user = userEvent.setup();
    const { rates } = setup();
    expect(up().getAttribute("aria-pressed")).toBe("false");
    await user.click(up());
    await screen.findByRole("button", { name: "Good answer", pressed: true });
    await user.click(up());
    await screen.findByRole("button", { name: "Good answer", pressed: false });
    expect(rates()).toEqual([
      { ...IDS, rating: "UP", note: "" },
      { ...IDS, rating: null, note: "" },
    ]);
  });

  it("asks what was wrong before rating down, and sends the note", async () => {
    const user = userEvent.setup();
    const { rates } = setup();
    await user.click(down());
    expect(down().getAttribute("aria-expanded")).toBe("true");
    const note = screen.getByRole("textbox", { name: /What was wrong/ });
    expect(document.activeElement).toBe(note);
    expect(note.getAttribute("maxLength")).toBe(String(MAX_NOTE));
    await user.type(note, "  Wrong page.  ");
    await user.click(screen.getByRole("button", { name: "Send" }));
    await screen.findByRole("button", { name: "Bad answer", pressed: true });
    expect(rates()).toEqual([{ ...IDS, rating: "DOWN", note: "Wrong page." }]);
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(screen.getByText("“Wrong page.”")).toBeTruthy();
    expect(document.activeElement).toBe(down());
  });

  it("works from the keyboard: Escape closes the note without rating, Ctrl+Enter sends", async () => {
    const user = userEvent.setup();
    const { rates } = setup({ rating: "UP", note: "" });
    expect(up().getAttribute("aria-pressed")).toBe("true");
    down().focus();
    await user.keyboard("{Enter}");
    expect(screen.getByRole("dialog")).toBeTruthy();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(down());
    expect(rates()).toEqual([]);
    await user.keyboard("{Enter}");
    await user.keyboard("vague{Control>}{Enter}{/Control}");
    await screen.findByRole("button", { name: "Bad answer", pressed: true });
    expect(up().getAttribute("aria-pressed")).toBe("false");
    expect(rates()).toEqual([{ ...IDS, rating: "DOWN", note: "vague" }]);
  });

  it("keeps the rating it had and says so when the server refuses", async () => {
    const user = userEvent.setup();
    setup(null, true);
    await user.click(up());
    await screen.findByRole("button", { name: "Good answer", pressed: false });
    expect(useToasts.getState().toasts.at(-1)?.title).toBe("Your rating was not saved");
  });
});
