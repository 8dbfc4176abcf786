import { Layers, Pencil, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useQuery } from "urql";
import { describeError } from "../../api/errors";
import type { StacksQuery as StacksQueryResult } from "../../gql/graphql";
import { Badge } from "../../ui/Badge";
import { Button, IconButton } from "../../ui/Button";
import { Logo } from "../../ui/Logo";
import { useTitle } from "../../ui/useTitle";
import { Skeleton } from "../../ui/Spinner";
import { EmptyState, ErrorState } from "../../ui/States";
import { fullTime, timeAgo } from "../../ui/time";
import { AccountMenu } from "../auth/AccountMenu";
import { KIND_LOOK } from "../builder/nodes/kinds";
import type { NodeKind } from "../builder/graph";
import { CreateStackDialog, DeleteStackDialog, EditStackDialog } from "./StackDialogs";
import { ImportStackButton } from "./ImportStackButton";
import { StacksQuery, TemplatesQuery } from "./operations";
import { TemplateGallery } from "./TemplateGallery";

type Stack = StacksQueryResult["workflows"][number];

const KIND_ORDER: NodeKind[] = ["USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"];

function StackCard({ stack, onEdit, onDelete }: { stack: Stack; onEdit: () => void; onDelete: () => void }) {
  const latest = stack.latestPublishedVersion;
  const kinds = KIND_ORDER.filter((k) => stack.nodes.some((n) => n.kind === k));
  return (
    <li className="group relative flex flex-col rounded-2xl border border-slate-200 bg-white p-5 shadow-xs transition-all hover:-translate-y-0.5 hover:border-slate-300 hover:shadow-md focus-within:ring-3 focus-within:ring-brand-500/20">
      <div className="mb-4 flex items-center justify-between">
        <div className="flex -space-x-1.5">
          {kinds.length === 0 ? (
            <span className="flex size-8 items-center justify-center rounded-lg bg-slate-100 text-slate-400 ring-2 ring-white">
              <Layers className="size-4" aria-hidden />
            </span>
          ) : (
            kinds.map((kind) => {
              const { icon: Icon, tile } = KIND_LOOK[kind];
              return (
                <span key={kind} className={`flex size-8 items-center justify-center rounded-lg ring-2 ring-white ${tile}`}>
                  <Icon className="size-4" aria-hidden />
                </span>
              );
            })
          )}
        </div>
        {latest ? <Badge tone="green">Published v{latest}</Badge> : <Badge>Draft</Badge>}
      </div>
      <h3 className="text-[15px] font-semibold text-slate-900">
        <Link to={`/stacks/${stack.id}`} className="outline-none after:absolute after:inset-0 after:rounded-2xl">
          {stack.name}
        </Link>
      </h3>
      <p className={`mt-1 line-clamp-2 min-h-10 text-sm ${stack.description ? "text-slate-500" : "text-slate-400 italic"}`}>
        {stack.description || "No description"}
      </p>
      <div className="mt-4 flex items-center justify-between border-t border-slate-100 pt-3 text-xs text-slate-500">
        <span title={fullTime(stack.updatedAt)}>
          Edited {timeAgo(stack.updatedAt)} · {stack.nodes.length} node{stack.nodes.length === 1 ? "" : "s"}
        </span>
        <div className="relative z-10 flex gap-0.5 opacity-60 transition-opacity group-hover:opacity-100 group-focus-within:opacity-100">
          <IconButton label={`Edit ${stack.name}`} onClick={onEdit}>
            <Pencil className="size-3.5" />
          </IconButton>
          <IconButton label={`Delete ${stack.name}`} tone="danger" onClick={onDelete}>
            <Trash2 className="size-3.5" />
          </IconButton>
        </div>
      </div>
    </li>
  );
}

export function StacksPage() {
  const navigate = useNavigate();
  useTitle("My Stacks");
  const [{ data, fetching, error }, refetch] = useQuery({ query: StacksQuery });
  const [{ data: gallery }] = useQuery({ query: TemplatesQuery });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Stack | null>(null);
  const [deleting, setDeleting] = useState<Stack | null>(null);
  const stacks = [...(data?.workflows ?? [])].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));

  return (
    <div className="min-h-full bg-[radial-gradient(ellipse_at_top,var(--color-brand-50),transparent_60%)]">
      <header className="sticky top-0 z-20 border-b border-slate-200/70 bg-white/80 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-6xl items-center justify-between px-6">
          <Logo />
          <div className="flex items-center gap-3">
            <AccountMenu />
            <ImportStackButton onImported={(id) => navigate(`/stacks/${id}`)} />
            <Button variant="primary" icon={<Plus className="size-4" />} onClick={() => setCreating(true)}>
              New stack
            </Button>
          </div>
        </div>
      </header>

      <main className="mx-auto max-w-6xl px-6 py-10">
        <div className="mb-8">
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900">My Stacks</h1>
          <p className="mt-1 text-sm text-slate-500">Assistants that answer questions from your documents. Open one to design, build and chat.</p>
        </div>

        {error && !data ? (
          <ErrorState title="Couldn't load your stacks" detail={describeError(error)} onRetry={() => refetch({ requestPolicy: "network-only" })} />
        ) : fetching && !data ? (
          <ul className="grid gap-5 sm:grid-cols-2 lg:grid-cols-3" aria-label="Loading stacks" aria-busy>
            {[0, 1, 2].map((i) => (
              <li key={i} className="rounded-2xl border border-slate-200 bg-white p-5">
                <Skeleton className="mb-5 h-8 w-24" />
                <Skeleton className="mb-2 h-4 w-2/3" />
                <Skeleton className="h-3 w-full" />
                <Skeleton className="mt-6 h-3 w-1/3" />
              </li>
            ))}
          </ul>
        ) : stacks.length === 0 ? (
          <div className="rounded-3xl border border-dashed border-slate-300 bg-white/60">
            <EmptyState
              icon={<Layers className="size-7" />}
              title="Build your first stack"
              detail="Drag a question, a knowledge base, a language model and an answer onto a canvas, connect them, and chat with your PDFs. No code needed — or start from a template below."
              action={
                <Button variant="primary" icon={<Plus className="size-4" />} onClick={() => setCreating(true)}>
                  Create a stack
                </Button>
              }
            />
          </div>
        ) : (
          <ul className="grid gap-5 sm:grid-cols-2 lg:grid-cols-3" aria-label="Stacks">
            {stacks.map((stack) => (
              <StackCard key={stack.id} stack={stack} onEdit={() => setEditing(stack)} onDelete={() => setDeleting(stack)} />
            ))}
            <li>
              <button
                type="button"
                onClick={() => setCreating(true)}
                className="flex h-full min-h-48 w-full flex-col items-center justify-center gap-2 rounded-2xl border-2 border-dashed border-slate-200 text-sm font-medium text-slate-500 transition-colors hover:border-brand-300 hover:bg-brand-50/40 hover:text-brand-700"
              >
                <Plus className="size-5" aria-hidden />
                New stack
              </button>
            </li>
          </ul>
        )}

        <TemplateGallery templates={gallery?.templates ?? []} onCreated={(id) => navigate(`/stacks/${id}`)} />
      </main>

      <CreateStackDialog open={creating} onClose={() => setCreating(false)} onCreated={(id) => navigate(`/stacks/${id}`)} />
      <EditStackDialog stack={editing} onClose={() => setEditing(null)} onSaved={() => refetch({ requestPolicy: "network-only" })} />
      <DeleteStackDialog
        stack={deleting}
        onClose={() => {
          setDeleting(null);
          refetch({ requestPolicy: "network-only" });
        }}
      />
    </div>
  );
}
