import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { chatMessage } from "../../test/fixtures";
import type { Message } from "./chatReducer";
import { ChatItemView } from "./MessageView";
import { webLink } from "./WebSources";

function answer(webSources: Message["webSources"]): Message {
  return chatMessage({ id: "a1", role: "ASSISTANT", content: "Tides turn turbines [W1].", webSources });
}

function renderAnswer(webSources: Message["webSources"]) {
  return render(<ChatItemView item={{ kind: "message", id: "a1", message: answer(webSources) }} />);
}

describe("web sources under an answer", () => {
  it("shows each page as a link with its title, site and snippet, opened in a new tab", () => {
    renderAnswer([
      { title: "Tidal power", url: "https://www.encyclopedia.test/wiki/Tidal_power", snippet: "Tidal power converts tides into electricity." },
      { title: "La Rance", url: "http://rance.test/station", snippet: "Opened in 1966." },
    ]);
    const list = screen.getByRole("list", { name: "Web sources" });
    const links = within(list).getAllByRole("link");
    expect(links.map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["Tidal power", "https://www.encyclopedia.test/wiki/Tidal_power"],
      ["La Rance", "http://rance.test/station"],
    ]);
    for (const link of links) {
      expect(link.getAttribute("target")).toBe("_blank");
      expect(link.getAttribute("rel")?.split(" ")).toEqual(expect.arrayContaining(["noopener", "noreferrer"]));
    }
    expect(within(list).getByText("encyclopedia.test")).toBeTruthy();
    expect(within(list).getByText("rance.test")).toBeTruthy();
    expect(within(list).getByText("Tidal power converts tides into electricity.")).toBeTruthy();
    expect(screen.getByText("2 web sources")).toBeTruthy();
  });

  it("shows an address that is not http(s) as text, never as a link", () => {
    const { container } = renderAnswer([
      { title: "Click me", url: "javascript:alert(document.cookie)", snippet: "Looks harmless." },
      { title: "Data", url: "data:text/html,<script>alert(1)</script>", snippet: "" },
      { title: "Fine", url: "https://ok.test/", snippet: "" },
    ]);
    const list = screen.getByRole("list", { name: "Web sources" });
    expect(within(list).getAllByRole("link").map((a) => a.textContent)).toEqual(["Fine"]);
    expect(within(list).getByText("Click me").closest("a")).toBeNull();
    expect(within(list).getByText("javascript:alert(document.cookie)").closest("a")).toBeNull();
    const hrefs = Array.from(container.querySelectorAll("[href]")).map((e) => e.getAttribute("href"));
    expect(hrefs).toEqual(["https://ok.test/"]);
    expect(container.querySelector("script")).toBeNull();
  });

  it("draws nothing for an answer without web search", () => {
    renderAnswer([]);
    expect(screen.queryByRole("list", { name: "Web sources" })).toBeNull();
  });
});

describe("webLink", () => {
  it("accepts http and https only", () => {
    expect(webLink("https://www.example.test/a?b=1")).toEqual({ href: "https://www.example.test/a?b=1", host: "example.test" });
    expect(webLink("HTTP://Example.test")).toEqual({ href: "http://example.test/", host: "example.test" });
    for (const bad of ["javascript:alert(1)", " javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd", "//evil.test/x", "not a url", ""]) {
      expect(webLink(bad)).toBeNull();
    }
  });
});
