import { useEffect } from "react";

/** The browser tab names the page, so that several open stacks can be told apart. */
export function useTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · GenAI Stack` : "GenAI Stack";
  }, [title]);
}
