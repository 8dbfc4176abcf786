import { useCallback } from "react";
import { useSearchParams } from "react-router";
import { CHAT_PARAM, paramOf, targetFromParam, type ChatTarget } from "./chatTarget";

/**
 * The chat shown, kept in the URL (`?chat=`) so that a reload, back and forward, or a link
 * reopen it; null while no chat is open. `show` opens another (a new history entry unless
 * `replace`) or, given null, closes the chat; other search parameters are left alone.
 */
export function useChatTarget() {
  const [params, setParams] = useSearchParams();
  const target = targetFromParam(params.get(CHAT_PARAM));
  const show = useCallback(
    (next: ChatTarget | null, how?: { replace?: boolean }) =>
      setParams(
        (current) => {
          const updated = new URLSearchParams(current);
          if (next) updated.set(CHAT_PARAM, paramOf(next));
          else updated.delete(CHAT_PARAM);
          return updated;
        },
        { replace: how?.replace },
      ),
    [setParams],
  );
  return [target, show] as const;
}
