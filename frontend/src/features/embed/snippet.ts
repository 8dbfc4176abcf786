/** The sites typed in the Embed dialog, one per line or separated by commas or spaces. */
export function originsFrom(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** The tag a site adds to its pages to show the stack's chat bubble. */
export function embedSnippet(server: string, stackId: string, token: string): string {
  const base = server.replace(/\/+$/, "");
  return `<script src="${base}/embed.js" data-stack="${stackId}" data-token="${token}" async></script>`;
}
