import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

function html(markdown: string): string {
  const box = document.createElement("div");
  box.append(renderMarkdown(markdown));
  return box.innerHTML;
}

describe("an answer's Markdown in the embedded chat", () => {
  it("shows quotes, with their own paragraphs, and the citation line", () => {
    expect(html("From the knowledge base:\n\n> The battery lasts **42 hours**.\n>\n> — [1] manual.pdf, p. 1")).toBe(
      "<p>From the knowledge base:</p><blockquote><p>The battery lasts <strong>42 hours</strong>.</p><p>— [1] manual.pdf, p. 1</p></blockquote>",
    );
  });

  it("shows lists, code, emphasis and web links", () => {
    expect(html("- one *a*\n- `two`\n\n1. first\n\nSee [docs](https://example.com/x).")).toBe(
      '<ul><li>one <em>a</em></li><li><code>two</code></li></ul><ol><li>first</li></ol><p>See <a href="https://example.com/x" target="_blank" rel="noopener noreferrer">docs</a>.</p>',
    );
  });

  it("never reads an answer as HTML, nor links anything but the web", () => {
    expect(html('<img src=x onerror="alert(1)"> [x](javascript:alert(1))')).toBe(
      '<p>&lt;img src=x onerror="alert(1)"&gt; [x](javascript:alert(1))</p>',
    );
  });
});
