import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
  // Images could beacon out to any server; answers show their address instead.
  img: ({ src, alt }) => <span className="text-slate-500">[image: {alt || String(src ?? "")}]</span>,
};

/**
 * Answers rendered as markdown, safely: raw HTML is dropped (no rehype-raw), and
 * react-markdown's default URL filter removes javascript: and other unsafe links.
 */
export function Markdown({ children }: { children: string }) {
  return (
    <div className="prose-chat text-sm text-slate-800">
      <ReactMarkdown remarkPlugins={[remarkGfm]} skipHtml components={components}>
        {children}
      </ReactMarkdown>
    </div>
  );
}
