/**
 * Answers are Markdown; the bubble shows the few forms they use (paragraphs, quotes, lists,
 * headings, code, bold, italics, links) as DOM nodes built from text: nothing in an answer is
 * ever parsed as HTML.
 */

const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+/;

export function renderMarkdown(markdown: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
    } else if (line.startsWith("```")) {
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      i++;
      const pre = document.createElement("pre");
      pre.textContent = code.join("\n");
      fragment.append(pre);
    } else if (/^>/.test(line)) {
      const quoted: string[] = [];
      for (; i < lines.length && /^>/.test(lines[i]); i++) quoted.push(lines[i].replace(/^>\s?/, ""));
      const quote = document.createElement("blockquote");
      quote.append(renderMarkdown(quoted.join("\n")));
      fragment.append(quote);
    } else if (LIST_ITEM.test(line)) {
      const list = document.createElement(/^\s*\d/.test(line) ? "ol" : "ul");
      for (; i < lines.length && LIST_ITEM.test(lines[i]); i++) {
        const item = document.createElement("li");
        item.append(inline(lines[i].replace(LIST_ITEM, "")));
        list.append(item);
      }
      fragment.append(list);
    } else if (/^#{1,6}\s/.test(line)) {
      const heading = document.createElement("p");
      const strong = document.createElement("strong");
      strong.append(inline(line.replace(/^#{1,6}\s+/, "")));
      heading.append(strong);
      fragment.append(heading);
      i++;
    } else {
      const paragraph = document.createElement("p");
      let first = true;
      for (; i < lines.length && lines[i].trim() && !/^(>|```|#{1,6}\s)/.test(lines[i]) && !LIST_ITEM.test(lines[i]); i++) {
        if (!first) paragraph.append(document.createElement("br"));
        paragraph.append(inline(lines[i]));
        first = false;
      }
      fragment.append(paragraph);
    }
  }
  return fragment;
}

const INLINE = /(\*\*[^*]+\*\*|__[^_]+__|`[^`]+`|\[[^\]]+\]\((?:https?:\/\/)[^)\s]+\)|\*[^*\s][^*]*\*|_[^_\s][^_]*_)/;

function inline(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const part of text.split(INLINE)) {
    if (!part) continue;
    if (/^(\*\*|__).+\1$/.test(part)) fragment.append(wrap("strong", part.slice(2, -2)));
    else if (/^`.+`$/.test(part)) fragment.append(wrap("code", part.slice(1, -1)));
    else if (/^\[/.test(part) && part.endsWith(")")) {
      const [, label, href] = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(part) ?? [];
      const link = document.createElement("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.textContent = label;
      fragment.append(link);
    } else if (/^([*_]).+\1$/.test(part)) fragment.append(wrap("em", part.slice(1, -1)));
    else fragment.append(document.createTextNode(part));
  }
  return fragment;
}

function wrap(tag: "strong" | "em" | "code", text: string): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}
