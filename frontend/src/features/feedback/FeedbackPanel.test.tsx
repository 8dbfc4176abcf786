import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { scriptedClient } from "../../test/scriptedClient";
import { FeedbackPanel, PAGE } from "./FeedbackPanel";

function ratedDown(n: number) {
  return {
    __typename: "RatedAnswer",
    question: `Question ${n}?`,
    answer: `Answer ${n}.`,
    askedAt: "2026-12-01T09:00:00+00:00",
    model: "ollama/llama3.2:latest",
    publishedVersion: n % 2 ? 2 : null,
    feedback: {
      __typename: "AnswerFeedback",
      messageId: `m${n}`,
      sessionId: "s1",
      note: n === 0 ? "" : `Note ${n}`,
      actorName: "vic@example.com",
      ratedAt: "2026-12-01T09:01:00+00:00",
    },
  };
}

/** A stack with `down` answers rated down (and 3 up), served a page at a time. */
function setup(down: number) {
  const scripted = scriptedClient({
    StackFeedback: (vars) => {
      const offset = vars.offset as number;
      const all = Array.from({ length: down }, (_, n) => ratedDown(n));
      const page = all.slice(offset, offset + (vars.first as number));
      return { feedback: { __typename: "StackFeedback", up: 3, down, offset, hasMore: offset + page.length < down, ratedDown: page } };
    },
  });
  render(
    <Provider value={scripted.client}>
      <FeedbackPanel workflowId="w1" onClose={() => {}} />
    </Provider>,
  );
  return scripted;
}

describe("FeedbackPanel", () => {
  it("shows the counts and each answer rated down with its question, note, who and version", async () => {
    setup(2);
    const list = await screen.findByRole("list", { name: "Answers rated down" });
    const items = within(list).getAllByRole("listitem");
    expect(items.map((li) => li.querySelector("p")?.textContent)).toEqual(["Question 0?", "Question 1?"]);
    expect(within(items[0]).getByText("No note.")).toBeTruthy();
    expect(within(items[1]).getByText("Note 1")).toBeTruthy();
    expect(items[0].textContent).toContain("vic@example.com");
    expect(items[0].textContent).toContain("draft · ollama/llama3.2:latest");
    expect(items[1].textContent).toContain("v2");
    expect(screen.getByText("Thumbs up").nextElementSibling?.textContent).toBe("3");
    expect(screen.getByText("Thumbs down").nextElementSibling?.textContent).toBe("2");
  });

  it("loads the next page on Show more, until there is none", async () => {
    const user = userEvent.setup();
    const scripted = setup(PAGE + 3);
    const list = await screen.findByRole("list", { name: "Answers rated down" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(PAGE);
    await user.click(screen.getByRole("button", { name: "Show more" }));
    await screen.findByText(`Question ${PAGE + 2}?`);
    expect(within(list).getAllByRole("listitem")).toHaveLength(PAGE + 3);
    expect(screen.queryByRole("button", { name: "Show more" })).toBeNull();
    expect(scripted.sent.map((s) => s.vars.offset)).toEqual([0, PAGE]);
  });

  it("says so when nothing was rated down", async () => {
    setup(0);
    expect(await screen.findByText(/No answer has been rated down/)).toBeTruthy();
  });
});
