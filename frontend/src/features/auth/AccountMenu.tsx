import { KeyRound, LogOut } from "lucide-react";
import { Link } from "react-router";
import { signOut, useSession } from "../../api/session";
import { Button } from "../../ui/Button";

/** The header's links to API tokens and, when signed in, who we are and signing out. */
export function AccountMenu() {
  const { status, user } = useSession();
  return (
    <nav className="flex items-center gap-2" aria-label="Account">
      <Link to="/tokens" className="inline-flex h-9 items-center gap-1.5 rounded-lg px-3 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900">
        <KeyRound className="size-4" aria-hidden />
        API tokens
      </Link>
      {status === "signedIn" && (
        <>
          <span className="text-sm text-slate-500">{user?.email}</span>
          <Button variant="ghost" icon={<LogOut className="size-4" />} onClick={() => void signOut()}>
            Sign out
          </Button>
        </>
      )}
    </nav>
  );
}
