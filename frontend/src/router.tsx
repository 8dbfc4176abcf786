import { createBrowserRouter, Link, Outlet, isRouteErrorResponse, useRouteError } from "react-router";
import { ErrorState } from "./ui/States";
import { Spinner } from "./ui/Spinner";

function PageSpinner() {
  return (
    <div className="flex h-full items-center justify-center text-slate-400">
      <Spinner className="size-6" label="Loading" />
    </div>
  );
}

function RouteError() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  // A new deployment replaces hashed chunks: a stale page fails to import one.
  const staleChunk = error instanceof Error && /dynamically imported module|Importing a module script failed/i.test(error.message);
  return (
    <div className="flex h-full flex-col items-center justify-center">
      <ErrorState
        title={notFound ? "Page not found" : staleChunk ? "GenAI Stack was updated" : "Something went wrong"}
        detail={
          notFound
            ? "There is nothing at this address."
            : staleChunk
              ? "Reload the page to get the new version."
              : error instanceof Error
                ? error.message
                : "An unexpected error stopped this page."
        }
        onRetry={() => window.location.reload()}
      />
      <Link to="/" className="text-sm font-medium text-brand-600 hover:underline">
        Back to My Stacks
      </Link>
    </div>
  );
}

function NotFound() {
  return (
    <div className="flex h-full flex-col items-center justify-center">
      <ErrorState title="Page not found" detail="There is nothing at this address." />
      <Link to="/" className="text-sm font-medium text-brand-600 hover:underline">
        Back to My Stacks
      </Link>
    </div>
  );
}

export const router = createBrowserRouter([
  {
    path: "/",
    element: <Outlet />,
    errorElement: <RouteError />,
    HydrateFallback: PageSpinner,
    children: [
      {
        index: true,
        lazy: () => import("./features/stacks/StacksPage").then((m) => ({ Component: m.StacksPage })),
      },
      {
        path: "stacks/:workflowId",
        lazy: () => import("./features/builder/BuilderPage").then((m) => ({ Component: m.BuilderPage })),
      },
      {
        path: "tokens",
        lazy: () => import("./features/tokens/TokensPage").then((m) => ({ Component: m.TokensPage })),
      },
      {
        path: "audit",
        lazy: () => import("./features/audit/AuditPage").then((m) => ({ Component: m.AuditPage })),
      },
      {
        path: "members",
        lazy: () => import("./features/members/MembersPage").then((m) => ({ Component: m.MembersPage })),
      },
      {
        path: "invite",
        lazy: () => import("./features/invite/InvitePage").then((m) => ({ Component: m.InvitePage })),
      },
      { path: "*", Component: NotFound },
    ],
  },
]);
