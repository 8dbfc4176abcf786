import { ArrowLeft } from "lucide-react";
import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";
import { describeError } from "../../api/errors";
import { FieldShell, selectClass } from "../../ui/Field";
import { Logo } from "../../ui/Logo";
import { EmptyState, ErrorState } from "../../ui/States";
import { useTitle } from "../../ui/useTitle";
import { AdminWorkspacesQuery } from "./operations";

/** The frame of a page for workspace admins (API tokens, Members, Audit log): back to My Stacks,
 * the title, a choice of workspace when the user administers several, and the page's own content
 * for the chosen one; someone who administers none is told to ask an admin. */
export function AdminPage({
  title,
  selectId,
  wide = false,
  empty,
  children,
}: {
  title: string;
  selectId: string;
  wide?: boolean;
  empty: { icon: ReactNode; title: string; detail: string };
  children: (workspaceId: string) => ReactNode;
}) {
  useTitle(title);
  const [{ data, error }] = useQuery({ query: AdminWorkspacesQuery });
  const administered = (data?.workspaces ?? []).filter((w) => w.role === "ADMIN");
  const [chosen, setChosen] = useState<string | null>(null);
  const workspaceId = chosen ?? administered[0]?.id ?? null;
  const width = wide ? "max-w-6xl" : "max-w-4xl";

  return (
    <div className="min-h-full">
      <header className="border-b border-slate-200/70 bg-white/80">
        <div className={`mx-auto flex h-14 ${width} items-center gap-4 px-6`}>
          <Link to="/" aria-label="Back to My Stacks" className="text-slate-500 hover:text-slate-900">
            <ArrowLeft className="size-4" />
          </Link>
          <Logo />
        </div>
      </header>
      <main className={`mx-auto ${width} space-y-6 px-6 py-10`}>
        <div className="flex items-end justify-between gap-4">
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
          {administered.length > 1 && workspaceId && (
            <FieldShell id={selectId} label="Workspace">
              <select id={selectId} className={selectClass} value={workspaceId} onChange={(e) => setChosen(e.target.value)}>
                {administered.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </FieldShell>
          )}
        </div>
        {error && !data ? (
          <ErrorState title="Couldn't load your workspaces" detail={describeError(error)} />
        ) : data && administered.length === 0 ? (
          <EmptyState icon={empty.icon} title={empty.title} detail={empty.detail} />
        ) : workspaceId ? (
          children(workspaceId)
        ) : null}
      </main>
    </div>
  );
}
