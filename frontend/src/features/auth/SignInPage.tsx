import { KeyRound, LogIn } from "lucide-react";
import { useState, type FormEvent } from "react";
import { signIn, useSession } from "../../api/session";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass } from "../../ui/Field";
import { useTitle } from "../../ui/useTitle";

/** Shown only when the server requires sign-in (it is not bound to loopback). */
export function SignInPage() {
  useTitle("Sign in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const singleSignOn = useSession((s) => s.singleSignOn);
  const [error, setError] = useState<string | null>(() => useSession.getState().signInError ?? null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(await signIn(email, password));
    setBusy(false);
  }

  return (
    <div className="flex min-h-full items-center justify-center bg-[radial-gradient(ellipse_at_top,var(--color-brand-50),transparent_60%)] px-6">
      <form onSubmit={submit} className="w-full max-w-sm space-y-5 rounded-2xl border border-slate-200 bg-white p-7 shadow-sm" aria-label="Sign in">
        {/* outside the router (it stands before the app): no Logo, which links home */}
        <p className="text-[15px] font-semibold tracking-tight text-slate-900">GenAI Stack</p>
        <h1 className="text-xl font-semibold tracking-tight text-slate-900">Sign in</h1>
        <FieldShell id="sign-in-email" label="Email">
          <input id="sign-in-email" type="email" autoComplete="username" required className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} />
        </FieldShell>
        <FieldShell id="sign-in-password" label="Password">
          <input id="sign-in-password" type="password" autoComplete="current-password" required className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} />
        </FieldShell>
        {error && (
          <p role="alert" className="text-sm text-red-600">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" className="w-full" loading={busy} icon={<LogIn className="size-4" />}>
          Sign in
        </Button>
        {singleSignOn && (
          <>
            <p className="flex items-center gap-3 text-xs text-slate-400 before:h-px before:flex-1 before:bg-slate-200 after:h-px after:flex-1 after:bg-slate-200">or</p>
            {/* a full navigation: the provider's pages, then back to this app signed in */}
            <a
              href={singleSignOn.url}
              className="inline-flex h-9 w-full items-center justify-center gap-2 rounded-lg border border-slate-200 bg-white px-3.5 text-sm font-medium text-slate-700 shadow-xs transition-colors hover:border-slate-300 hover:bg-slate-50"
            >
              <KeyRound className="size-4" aria-hidden />
              Sign in with {singleSignOn.name}
            </a>
          </>
        )}
      </form>
    </div>
  );
}
