import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "./Markdown";

describe("Markdown", () => {
  it("renders markdown formatting", () => {
    const { container } = render(<Markdown>{"**Bold** and a list:\n\n- one\n- two"}</Markdown>);
    expect(container.querySelector("strong")?.textContent).toBe("Bold");
    expect(container.querySelectorAll("li")).toHaveLength(2);
  });

  it("drops raw HTML instead of injecting it", () => {
    const { container } = render(<Markdown>{'Hello <img src=x onerror="alert(1)"> <script>alert(2)</script><b>x</b>'}</Markdown>);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(container.innerHTML).not.toContain("onerror");
  });

  it("neutralises javascript: links and opens others safely", () => {
    const { container } = render(<Markdown>{"[bad](javascript:alert(1)) [good](https://example.com)"}</Markdown>);
    const links = Array.from(container.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).not.toContain("javascript:alert(1)");
    const good = links.find((a) => a.textContent === "good")!;
    expect(good.getAttribute("rel")).toContain("noopener");
    expect(good.getAttribute("target")).toBe("_blank");
  });

  it("does not load images named in markdown", () => {
    const { container } = render(<Markdown>{"![tracker](https://evil.example/pixel.png)"}</Markdown>);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain("[image: tracker]");
  });
});
